// The valid requests the fuzzer starts from: every endpoint and the options that take separate paths through the server
// (tools and tool_choice, structured output, logprobs, n, stop, streams with usage, echo, logit_bias, Triton's parameters,
// /inference streaming). Invariant: each seed is answered 200 by both fuzzed servers when sent unmutated (a test checks it),
// and asks for few tokens, so a seed costs milliseconds.
namespace Estuary.Server.Tests.Fuzzing;

internal static class FuzzSeeds
{
    private const string Msg = "[{\"role\":\"user\",\"content\":\"Tell me a story\"}]";
    private const string Tool = "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"d\",\"parameters\":" +
        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":8},\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9}},\"required\":[\"city\"]}}}";

    private const string FlatTool = "{\"type\":\"function\",\"name\":\"get_weather\",\"description\":\"d\",\"parameters\":" +
        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":8}},\"required\":[\"city\"]}}";

    public static readonly (string Path, string Body)[] All =
    [
        ("/inference", "{\"messages\":" + Msg + ",\"max_tokens\":6}"),
        ("/inference?streaming=true", "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}],\"max_tokens\":6,\"ignore_eos\":true}"),
        ("/v1/chat/completions", "{\"model\":\"fuzzed\",\"messages\":" + Msg + ",\"max_tokens\":6,\"temperature\":0.7,\"top_p\":0.9,\"top_k\":5,\"min_p\":0.01,\"seed\":3,\"n\":2,\"stop\":[\"x\",\"yz\"],\"presence_penalty\":0.5,\"frequency_penalty\":0.1,\"repetition_penalty\":1.1,\"logprobs\":true,\"top_logprobs\":2,\"prompt_logprobs\":1,\"logit_bias\":{\"5\":2.5},\"min_tokens\":1,\"stop_token_ids\":[7],\"user\":\"u\"}"),
        ("/v1/chat/completions", "{\"messages\":" + Msg + ",\"max_tokens\":6,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":2,\"logprobs\":true,\"top_logprobs\":1,\"ignore_eos\":true}"),
        ("/v1/chat/completions", "{\"messages\":" + Msg + ",\"max_tokens\":40,\"tools\":[" + Tool + "],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}}"),
        ("/v1/chat/completions", "{\"messages\":" + Msg + ",\"max_tokens\":40,\"tools\":[" + Tool + "],\"tool_choice\":\"required\",\"parallel_tool_calls\":false,\"stream\":true}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"w?\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"x\\\"}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"sunny\"}],\"max_tokens\":8,\"tools\":[" + Tool + "],\"tool_choice\":\"auto\",\"stream\":true}"),
        ("/v1/chat/completions", "{\"messages\":" + Msg + ",\"max_tokens\":30,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":3},\"b\":{\"enum\":[\"x\",\"y\"]}},\"required\":[\"a\"]}}}}"),
        ("/v1/chat/completions", "{\"messages\":" + Msg + ",\"max_tokens\":8,\"response_format\":{\"type\":\"json_object\"},\"stream\":true}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\",\"reasoning\":\"r\"},{\"role\":\"user\",\"content\":\"c\"}],\"max_tokens\":8,\"include_reasoning\":false,\"stream\":true}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":\"r\"},{\"role\":\"user\",\"content\":\"c\"}],\"max_tokens\":12,\"guided_choice\":[\"yes\",\"no\"],\"n\":2}"),
        ("/v1/chat/completions", "{\"messages\":" + Msg + ",\"max_tokens\":8,\"structured_outputs\":{\"choice\":[\"yes\",\"no\"]}}"),
        ("/v1/completions", "{\"prompt\":\"Once upon a time\",\"max_tokens\":6,\"n\":2,\"seed\":7,\"stop\":\".\",\"logprobs\":2,\"echo\":true,\"prompt_logprobs\":1}"),
        ("/v1/completions", "{\"prompt\":[\"a\",\"The dog\"],\"max_tokens\":6,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"logprobs\":1,\"echo\":true}"),
        ("/v1/completions", "{\"prompt\":[1,40,41,42],\"max_tokens\":0,\"echo\":true,\"logprobs\":1}"),
        ("/v1/completions", "{\"prompt\":[[1,40],[1,41,42]],\"max_tokens\":4,\"logit_bias\":{\"9\":-100},\"min_tokens\":2,\"stop_token_ids\":[3],\"skip_special_tokens\":false,\"best_of\":1}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":8,\"guided_regex\":\"[a-z]{1,5}\\\\.\"}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":8,\"guided_choice\":[\" cat\",\" dog\"],\"stream\":true}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":12,\"guided_json\":{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"maxItems\":2}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":8,\"guided_grammar\":\"root ::= \\\"a\\\" | \\\"b\\\" root\"}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"Once\",\"max_tokens\":6,\"bad_words\":\"\",\"stop_words\":[\"x\"],\"end_id\":2,\"pad_id\":0,\"temperature\":0.5,\"top_k\":4,\"top_p\":0.9,\"repetition_penalty\":1.1,\"presence_penalty\":0.1,\"frequency_penalty\":0.1,\"min_length\":1,\"random_seed\":5,\"beam_width\":1,\"return_log_probs\":true}"),
        ("/v2/models/ensemble/generate_stream", "{\"text_input\":\"Once\",\"max_tokens\":6,\"exclude_input_in_output\":false,\"return_log_probs\":true}"),
        ("/v2/models/ensemble/versions/1/generate", "{\"text_input\":\"hi\",\"max_tokens\":8,\"guided_decoding_guide_type\":\"json_schema\",\"guided_decoding_guide\":\"{\\\"enum\\\":[\\\"a\\\",1]}\",\"stream\":true}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"max_tokens\":8,\"guided_decoding_guide_type\":\"regex\",\"guided_decoding_guide\":\"(ab|c)+\"}"),
        ("/v1/responses", "{\"model\":\"fuzzed\",\"input\":\"Tell me a story\",\"instructions\":\"Be brief\",\"max_output_tokens\":6,\"temperature\":0.5,\"top_p\":0.9,\"seed\":3,\"stream\":true,\"metadata\":{\"k\":\"v\"},\"store\":false}"),
        ("/v1/responses", "{\"input\":[{\"role\":\"user\",\"content\":\"w?\"},{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"x\\\"}\"},{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"sunny\"},{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"s\"}]},{\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"ok\"}]},{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"more\"}]}],\"tools\":[" + FlatTool + "],\"tool_choice\":\"auto\",\"max_output_tokens\":8}"),
        ("/v1/responses", "{\"input\":\"a\",\"tools\":[" + FlatTool + "],\"tool_choice\":\"required\",\"parallel_tool_calls\":false,\"max_output_tokens\":40,\"stream\":true}"),
        ("/v1/responses", "{\"input\":\"a\",\"max_output_tokens\":30,\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"p\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]}}}}"),
        ("/tokenize", "{\"prompt\":\"Once upon a time\",\"add_special_tokens\":true,\"return_token_strs\":true}"),
        ("/tokenize", "{\"messages\":" + Msg + ",\"add_generation_prompt\":true,\"return_token_strs\":false}"),
        ("/detokenize", "{\"tokens\":[1,40,41,42]}"),
    ];
}
