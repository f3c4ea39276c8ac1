#!/usr/bin/env python3
"""Writes tests/Estuary.Tokenization.Tests/Data/chat_templates.json: chat templates written for Estuary's tests (each in the
style of a model family's template, exercising the Jinja features Hugging Face chat templates use), rendered by Jinja2 itself
with the environment Hugging Face's apply_chat_template uses (trim_blocks, lstrip_blocks, loop controls) over a few
conversations. The C# renderer must reproduce every output byte for byte, and every error. Needs only `pip install jinja2`."""
import json
import pathlib

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATES = {
    # [INST] rounds with the system prompt folded into the first user turn, BOS/EOS around rounds (Llama 2 style).
    "inst": (
        "{%- if messages[0].role == 'system' -%}\n"
        "  {%- set system = messages[0].content -%}\n"
        "  {%- set turns = messages[1:] -%}\n"
        "{%- else -%}\n"
        "  {%- set system = none -%}\n"
        "  {%- set turns = messages -%}\n"
        "{%- endif -%}\n"
        "{%- for m in turns -%}\n"
        "  {%- if (m.role == 'user') != loop.index0 is even -%}\n"
        "    {{- raise_exception('roles must alternate between user and assistant') -}}\n"
        "  {%- endif -%}\n"
        "  {%- set text = m['content'] -%}\n"
        "  {%- if loop.first and system is not none -%}\n"
        "    {%- set text = '<<SYS>>\\n' ~ system ~ '\\n<</SYS>>\\n\\n' ~ text -%}\n"
        "  {%- endif -%}\n"
        "  {%- if m.role == 'user' -%}\n"
        "    {{- bos_token ~ '[INST] ' ~ text.strip() ~ ' [/INST]' -}}\n"
        "  {%- else -%}\n"
        "    {{- ' ' ~ text.strip() ~ ' ' ~ eos_token -}}\n"
        "  {%- endif -%}\n"
        "{%- endfor -%}"
    ),
    # Tag lines relying on trim_blocks / lstrip_blocks rather than '-' markers (Zephyr style).
    "tags": (
        "{% for message in messages %}\n"
        "  {% if message['role'] == 'system' %}\n"
        "<|system|>\n"
        "{{ message['content'] }}{{ eos_token }}\n"
        "  {% elif message['role'] == 'user' %}\n"
        "<|user|>\n"
        "{{ message['content'] }}{{ eos_token }}\n"
        "  {% else %}\n"
        "<|assistant|>\n"
        "{{ message['content'] }}{{ eos_token }}\n"
        "  {% endif %}\n"
        "  {% if loop.last and add_generation_prompt %}\n"
        "<|assistant|>\n"
        "  {% endif %}\n"
        "{% endfor %}"
    ),
    # '+' concatenation with a filter binding tighter than '+' (ChatML style).
    "im": (
        "{% for message in messages %}{{ '<|im_start|>' + message.role + '\\n' + message.content | trim + '<|im_end|>\\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    ),
    # namespace, loop filters, loop.length, conditional expressions, membership, filters with arguments, comments.
    "ns": (
        "{#- a comment -#}\n"
        "{%- set ns = namespace(system='', count=0) -%}\n"
        "{%- for m in messages if m.role == 'system' -%}{%- set ns.system = ns.system ~ m.content -%}{%- endfor -%}\n"
        "{{- bos_token -}}\n"
        "{%- if ns.system -%}[{{ ns.system | upper }}]{{ '\\n' }}{%- endif -%}\n"
        "{%- for m in messages if m.role in ['user', 'assistant'] -%}\n"
        "{%- set ns.count = ns.count + 1 -%}\n"
        "{{ loop.index }}/{{ loop.length }} {{ 'Q' if m.role == 'user' else 'A' }}: {{ m.content | replace('\\n', ' ') }}"
        "{{ eos_token if m.role == 'assistant' else '' }}\n"
        "{% endfor -%}\n"
        "{%- if add_generation_prompt %}{{ ns.count }} turns; A:{% endif -%}"
    ),
    # Arithmetic, slicing, tests, methods, defaults, JSON and loop controls.
    "misc": (
        "{{ bos_token }}{% for i in range(messages | length) %}{{ messages[i].role[0] | upper }}{% endfor %}"
        "|{{ messages | map(attribute='role') | join(',') }}|{{ messages[-1].content[:5] }}|{{ messages[-1]['content'][::-1][:3] }}"
        "|{{ (messages | length) // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ -2 + 5 * 2 }}|{{ 2 ** 5 }}|{{ 7 / 2 }}|{{ 1.5 + 1 }}"
        "|{{ \"dq\\\"s\" }}|{{ none is none }}|{{ undefined_var | default('dflt') }}|{{ '' | default('empty', true) }}"
        "|{% if messages[0].content.startswith('H') %}H{% else %}-{% endif %}|{{ raise_exception is defined }}"
        "|{{ messages[0] | tojson }}|{{ (messages | selectattr('role', 'equalto', 'user') | list | length) }}"
        "|{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}{% if m.role == 'system' %}{% continue %}{% endif %}{{ m.role }};{% endfor %}"
        "|{{ messages[0].get('missing', 'fallback') }}|{{ 'a,b,c'.split(',') | last }}|{{ 'x' * 3 }}|{{ [1, 2] + [3] }}"
        "|{{ 'Mixed Case' | lower | title }}|{{ not add_generation_prompt }}|{{ 3 is odd and 4 is divisibleby(2) }}"
    ),
    # Tool use: the tools listed with their parameter schemas (tojson), assistant tool calls with their arguments (parsed
    # from OpenAI's JSON text, as vLLM hands them to templates) and tool results with the id they answer.
    "tooluse": (
        "{%- if tools %}\n"
        "{{- '<|system|>Functions:\\n' }}\n"
        "{%- for tool in tools %}\n"
        "{{- tool.function.name ~ ': ' ~ tool.function.parameters | tojson ~ '\\n' }}\n"
        "{%- endfor %}\n"
        "{{- '<|end|>\\n' }}\n"
        "{%- endif %}\n"
        "{%- for m in messages %}\n"
        "{%- if m.role == 'tool' %}\n"
        "{{- '<|tool|>' ~ m.tool_call_id ~ ': ' ~ m.content ~ '<|end|>\\n' }}\n"
        "{%- elif m.tool_calls is defined and m.tool_calls %}\n"
        "{{- '<|assistant|>' }}\n"
        "{%- for call in m.tool_calls %}\n"
        "{{- '<call ' ~ call.id ~ ' ' ~ call.type ~ ' ' ~ call.function.name ~ '>' ~ call.function.arguments | tojson ~ '</call>' }}\n"
        "{%- endfor %}\n"
        "{{- '<|end|>\\n' }}\n"
        "{%- else %}\n"
        "{{- '<|' ~ m.role ~ '|>' ~ m.content ~ '<|end|>\\n' }}\n"
        "{%- endif %}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}{{- '<|assistant|>' }}{%- endif %}"
    ),
}

# The tools every rendering receives (templates that do not use them ignore them), as an OpenAI request lists them.
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                                                     "required": ["city"]}}},
    {"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}},
]

CONVERSATIONS = {
    "single": [{"role": "user", "content": "Hello there!"}],
    "system": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "  What is 2+2?  "}],
    "multi": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": " Hello! How can I help? "},
        {"role": "user", "content": "Tell me a story\nabout a dog."},
    ],
    "chinese": [{"role": "user", "content": "你好,讲个故事"}],
    "misordered": [{"role": "assistant", "content": "I speak first"}, {"role": "user", "content": "ok"}],
    "tool_use": [
        {"role": "user", "content": "Weather in Paris, and 2+3?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2}"}},
            {"id": "call_2", "type": "function", "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 3.5}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21°C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "5.5"},
    ],
}


def for_template(messages):
    """The messages as vLLM hands them to a template: tool-call arguments parsed from their JSON text."""
    result = []
    for m in messages:
        m = dict(m)
        if "tool_calls" in m:
            m["tool_calls"] = [dict(c, function=dict(c["function"], arguments=json.loads(c["function"]["arguments"]))) for c in m["tool_calls"]]
        result.append(m)
    return result


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def main():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = lambda x, indent=None: json.dumps(x, ensure_ascii=False, indent=indent)
    cases = []
    for name, source in TEMPLATES.items():
        template = env.from_string(source)
        for conversation, messages in CONVERSATIONS.items():
            for add_generation_prompt in (True, False):
                case = {"template": name, "conversation": conversation, "add_generation_prompt": add_generation_prompt}
                try:
                    case["rendered"] = template.render(messages=for_template(messages), bos_token="<s>", eos_token="</s>",
                                                       add_generation_prompt=add_generation_prompt, tools=TOOLS)
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = str(e)
                cases.append(case)
    out = pathlib.Path(__file__).resolve().parent.parent / "tests/Estuary.Tokenization.Tests/Data/chat_templates.json"
    out.write_text(json.dumps({"generator": "scripts/chat-template-references.py", "jinja2": jinja2.__version__,
                               "templates": TEMPLATES, "tools": TOOLS, "conversations": CONVERSATIONS, "cases": cases},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} cases, {sum('error' in c for c in cases)} errors → {out}")


if __name__ == "__main__":
    main()
