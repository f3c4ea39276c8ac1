#!/usr/bin/env python3
"""Writes tests/Estuary.Tokenization.Tests/Data/chat_templates.json: chat templates written for Estuary's tests (each in the
style of a model family's template, exercising the Jinja features Hugging Face chat templates use), rendered by Jinja2 itself
with the environment transformers' apply_chat_template uses (trim_blocks, lstrip_blocks, loop controls, raise_exception and
strftime_now globals, its own tojson) over a few conversations, each with a context: the tools and template keyword arguments
passed (tools is None when there are none, as transformers passes it) and the fixed local time strftime_now reads. The C#
renderer must reproduce every output byte for byte, and every raise_exception error word for word; where Jinja itself fails
(the ordering_errors probes only: TypeError, UndefinedError…) the case records a "failure" and the C# renderer must fail
too. The float sums here are exact, so that Python 3.12's compensated sum gives what 3.11's left-to-right one gives (Estuary
adds left to right). Needs only `pip install jinja2`."""
import datetime
import random
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
    # Llama 3.1 style with tools: a system turn with the knowledge cutoff and today's date (date_string, else the date
    # strftime_now gives), the tools as indented JSON either in the system turn or ahead of the first user message
    # (tools_in_user_message), custom_tools and builtin_tools, one JSON tool call per assistant turn (<|eom_id|> when built-in
    # tools are on), tool results in the ipython role (JSON unless plain text), content as a string or a list of text parts.
    "llama3_1_tools": r"""{{- bos_token }}
{#- the variables a caller may leave out #}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if tools_in_user_message is not defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "1 Jan 2024" %}
    {%- endif %}
{%- endif %}
{%- if tools is not defined %}
    {%- set tools = none %}
{%- endif %}

{#- a leading system message is lifted out of the turns #}
{%- if messages[0]['role'] == 'system' %}
    {%- if messages[0]['content'] is string %}
        {%- set system_text = messages[0]['content']|trim %}
    {%- else %}
        {%- set system_text = messages[0]['content'][0]['text']|trim %}
    {%- endif %}
    {%- set messages = messages[1:] %}
{%- elif tools is not none %}
    {%- set system_text = "Call a function only when one fits; otherwise answer in plain words." %}
{%- else %}
    {%- set system_text = "" %}
{%- endif %}

{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "These functions are available. To use one, reply with JSON only: " }}
    {{- '{"name": <function name>, "parameters": <arguments by name>}.\n\n' }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_text }}
{{- "<|eot_id|>" }}

{#- tools for the user turn go ahead of the first user message #}
{%- if tools_in_user_message and not tools is none %}
    {%- if messages | length == 0 %}
        {{- raise_exception("The tools go in the first user message, but there is no user message.") }}
    {%- endif %}
    {%- if messages[0]['content'] is string %}
        {%- set first_text = messages[0]['content']|trim %}
    {%- else %}
        {%- set first_text = messages[0]['content'] | selectattr('type', 'equalto', 'text') | map(attribute='text') | map('trim') | join('\n') %}
    {%- endif %}
    {%- set messages = messages[1:] %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Answer with a JSON function call, with the right arguments, when one of these functions fits the question.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) ~ "\n\n" }}
    {%- endfor %}
    {{- first_text + "<|eot_id|>" }}
{%- endif %}

{%- for message in messages %}
    {%- if message.role == 'ipython' or message.role == 'tool' %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("One tool call per assistant turn, not " ~ message.tool_calls|length ~ ".") }}
        {%- endif %}
        {%- set call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {%- if builtin_tools is defined and call.name in builtin_tools %}
            {{- "<|python_tag|>" + call.name + ".call(" }}
            {%- for key, value in call.arguments.items() %}
                {{- key + '="' + value + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
            {%- endfor %}
            {{- ")" }}
        {%- else %}
            {{- '{"name": "' + call.name|trim + '", ' }}
            {{- '"parameters": ' + call.arguments | tojson + "}" }}
        {%- endif %}
        {{- "<|eom_id|>" if builtin_tools is defined else "<|eot_id|>" }}
    {%- else %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}
        {%- if message['content'] is string %}
            {{- message['content'] | trim }}
        {%- else %}
            {%- for part in message['content'] if part['type'] == 'text' %}
                {{- part['text'] | trim }}
            {%- endfor %}
        {%- endif %}
        {{- '<|eot_id|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
""",
    # Llama 3.2 style: the date from strftime_now unless date_string is given, tools in the system turn by default, content
    # as a string or a list of parts (text and image; images rule out a system turn), a namespace counting over the parts.
    "llama3_2": r"""{{- bos_token }}
{%- if tools_in_user_message is not defined %}
    {%- set tools_in_user_message = false %}
{%- endif %}
{%- if date_string is undefined %}
    {%- set date_string = strftime_now("%d %b %Y") if strftime_now is defined else "2 Feb 2025" %}
{%- endif %}
{%- if tools is not defined %}
    {%- set tools = none %}
{%- endif %}

{#- count the images among the parts #}
{%- set seen = namespace(images=0, parts=0) %}
{%- for message in messages %}
    {%- if message.content is not string %}
        {%- for part in message.content %}
            {%- set seen.parts = seen.parts + 1 %}
            {%- if part.type == 'image' %}
                {%- set seen.images = seen.images + 1 %}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{%- endfor %}

{%- if messages[0].role == 'system' %}
    {%- set system_text = (messages[0].content if messages[0].content is string else messages[0].content[0].text) | trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_text = "" if tools is none else "You may call the functions below." %}
{%- endif %}
{%- if seen.images > 0 and system_text != "" %}
    {{- raise_exception("Images cannot be combined with a system message or tools (" ~ seen.images ~ " image(s) in " ~ seen.parts ~ " part(s)).") }}
{%- endif %}

{%- if seen.images == 0 %}
    {{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
    {%- if tools is not none %}
        {{- "Environment: ipython\n" }}
    {%- endif %}
    {{- "Cutting Knowledge Date: December 2023\n" ~ "Today Date: " ~ date_string ~ "\n\n" }}
    {%- if tools is not none and not tools_in_user_message %}
        {{- "Functions (reply with JSON {\"name\": ..., \"parameters\": ...} to call one):\n\n" }}
        {%- for t in tools %}
            {{- t | tojson(indent=4) + "\n\n" }}
        {%- endfor %}
    {%- endif %}
    {{- system_text ~ "<|eot_id|>" }}
{%- endif %}

{%- if tools_in_user_message and tools is not none %}
    {%- if not messages %}
        {{- raise_exception("No user message to carry the tools.") }}
    {%- endif %}
    {%- set first = messages[0].content %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' }}
    {{- "Functions you may call:\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}{{- "\n\n" }}
    {%- endfor %}
    {{- (first | trim if first is string else first | selectattr('type', 'equalto', 'text') | map(attribute='text') | map('trim') | join('\n')) + "<|eot_id|>" }}
    {%- set messages = messages[1:] %}
{%- endif %}

{%- for message in messages %}
    {%- if message.role not in ['tool', 'ipython'] and message.tool_calls is not defined %}
        {{- '<|start_header_id|>' ~ message.role ~ '<|end_header_id|>\n\n' }}
        {%- if message.content is string %}
            {{- message.content | trim }}
        {%- else %}
            {%- for part in message.content %}
                {%- if part.type == 'image' %}
                    {{- '<|image|>' }}
                {%- elif part.type == 'text' %}
                    {{- part.text | trim }}
                {%- endif %}
            {%- endfor %}
        {%- endif %}
        {{- '<|eot_id|>' }}
    {%- elif message.tool_calls is defined %}
        {%- if message.tool_calls | length != 1 %}
            {{- raise_exception("Only single tool calls are supported.") }}
        {%- endif %}
        {%- set fn = message.tool_calls[0]['function'] %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' ~ fn.name ~ '", "parameters": ' ~ fn.arguments | tojson ~ '}<|eot_id|>' }}
    {%- else %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is string %}
            {{- {"output": message.content} | tojson }}
        {%- elif message.content is mapping %}
            {{- message.content | tojson }}
        {%- else %}
            {%- for part in message.content if part.type == 'text' %}
                {{- {"output": part.text, "part": loop.index0} | tojson }}
            {%- endfor %}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
""",
    # tojson's options as transformers exposes them (json.dumps' ensure_ascii, indent, separators, sort_keys, in that order),
    # trim's and strip's characters, replace's empty text and count, float text, the variables transformers always passes (tools and documents, None when
    # absent) and strftime_now's format codes.
    "options": (
        "{{- (tools is none) ~ '|' ~ (documents is none) ~ '|' ~ (tools is defined) ~ '|' ~ (strftime_now is defined) }}\n"
        "{%- for t in tools or [] %}{{ t.function | tojson(indent=2, sort_keys=true) }}\n{{ t | tojson(separators=(',', ':')) }}\n"
        "{{ t.function.parameters | tojson(ensure_ascii=true) }}\n{{ t.function.description | default('ø') | tojson(true) }}\n"
        "{{ t | tojson(indent=0) }}\n{{ t.function.name | tojson(false, '\t') }}\n{%- endfor %}"
        "{{ '--x--' | trim('-') }}|{{ ' y '.strip('') }}|{{ 'xyx'.rstrip('x') }}|{{ [1e16, 1.5e-7, 12345678901234567.0, -0.0] | tojson }}"
        "|{{ 1e15 }}|{{ 2.5e-5 }}|{{ 'ab' | replace('', '-') }}|{{ 'abc'.replace('', '-', 2) }}|{{ 'aXbXc' | replace('X', '', 1) }}\n"
        "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%a %A %b %B') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}"
        "|{{ strftime_now('%y %j %I %p %%') }}"
    ),
    # Jinja's ordering filters: dictsort (pairs, unpacked in a for loop), sort (stable both ways, case-folded unless
    # case_sensitive, by attribute: dotted, comma-separated, an index), unique (first of each key; 1, 1.0 and true alike),
    # min and max (the first extreme; undefined when empty), sum (int stays int, a start, lists).
    "ordering": (
        "{%- set d = {'b': 2, 'A': 3, 'a': 1, 'C': 0.5, 'c': -1, 'é': 0} -%}\n"
        "{%- set people = [{'name': 'bob', 'age': 30, 'addr': {'city': 'Oslo'}, 'tags': ['x', 'b']},"
        " {'name': 'Al', 'age': 25, 'addr': {'city': 'lima'}, 'tags': ['a']},"
        " {'name': 'cy', 'age': 30, 'addr': {'city': 'Bern'}, 'tags': ['c', 'a']},"
        " {'name': 'Di', 'age': 25.0, 'addr': {'city': 'oslo'}, 'tags': ['b']}] -%}\n"
        "dictsort {{ d | dictsort }}|{% for k, v in d | dictsort(true) %}{{ k }}={{ v }};{% endfor %}\n"
        "{{ d | dictsort(false, 'value') }}|{{ d | dictsort(reverse=true) }}|{{ d | dictsort(by='value', reverse=true) }}"
        "|{{ {} | dictsort }}|{{ {'x': none} | dictsort }}|{{ (d | dictsort)[0] }}|{{ (d | dictsort)[1][1] }}|{{ (d | dictsort | first) | list }}\n"
        "{% for tool in tools or [] %}{% for name, schema in tool.function.parameters.properties | dictsort %}"
        "{{ name }}:{{ schema.type }}{{ '' if loop.last else ',' }}{% endfor %}; {% endfor %}\n"
        "sort {{ ['b', 'B', 'a', 'A', 'c', 'C', 'ab', 'Aa'] | sort }}|{{ ['b', 'B', 'a', 'A'] | sort(case_sensitive=true) }}"
        "|{{ ['b', 'B', 'a', 'A'] | sort(true) }}|{{ ['é', 'z', 'É', '😀', '\ufb01', 'Z'] | sort }}\n"
        "{{ [3, 1.5, 2, -1, 1, 1.0, true, 0, false] | sort }}|{{ [3, 1.5, 2, true, 1, 1.0] | sort(reverse=true) }}|{{ [] | sort }}"
        "|{{ 'hello' | sort | join }}|{{ {'b': 1, 'a': 2} | sort }}|{{ [[2, 'b'], [1, 'z'], [2, 'a'], [1], [], [2, 'A']] | sort }}"
        "|{{ [none, none] | sort }}|{{ ('a', 1) }}|{{ ('x',) }}|{{ [(2, 'b'), (1, 'a'), (1, 'A')] | sort }}|{{ [('a', 1), ('a', 1.0), ('b', 2)] | unique | list }}"
        "|{{ 'b😀a' | sort | join }}|{{ 'a😀b' | list }}|{{ 'a😀b' | reverse }}|{{ 'a😀' | last }}|{% for c in 'x😀' %}<{{ c }}>{% endfor %}|{{ 'a😀😀b' | unique | join }}"
        "|{{ d | dictsort | unique | list | length }}|{% for k, v in [('p', 1), ('q', 2)] %}{{ k }}{{ v }}{% endfor %}\n"
        "{{ messages | sort(attribute='content') | map(attribute='role') | join(',') }}"
        "|{{ messages | sort(attribute='role,content', reverse=true) | map(attribute='content') | list }}\n"
        "{{ people | sort(attribute='age') | map(attribute='name') | join(',') }}"
        "|{{ people | sort(attribute='age', reverse=true) | map(attribute='name') | join(',') }}"
        "|{{ people | sort(attribute='addr.city') | map(attribute='name') | join(',') }}"
        "|{{ people | sort(attribute='addr.city', case_sensitive=true) | map(attribute='name') | join(',') }}"
        "|{{ people | sort(attribute='tags.0') | map(attribute='name') | join(',') }}"
        "|{{ people | sort(attribute='age,name', reverse=true) | map(attribute='name') | join(',') }}"
        "|{{ people | sort(attribute='name') | map(attribute='name') | join(',') }}"
        "|{{ people | sort(attribute='missing') | map(attribute='name') | join(',') }}"
        "|{{ people | sort(false, false, 'tags') | map(attribute='name') | join(',') }}\n"
        "{{ [[3, 'c'], [1, 'a'], [2, 'B']] | sort(attribute=1) }}|{{ [[3, 'c'], [1, 'a'], [2, 'b']] | sort(attribute='0') }}"
        "|{{ [[3, 'c'], [1, 'a'], [2, 'b']] | sort(attribute=-1, reverse=true) }}|{{ ['ba', 'Ab', 'ca'] | sort(attribute='1') }}\n"
        "unique {{ ['a', 'A', 'b', 'a', 'B', 'c'] | unique | list }}|{{ ['a', 'A', 'b', 'a', 'B', 'c'] | unique(true) | list }}"
        "|{{ [1, 1.0, true, 2, '1', 2.0, none, none, 0, false, 0.0] | unique | list }}|{{ 'Mississippi' | unique | join }}"
        "|{{ [] | unique | list }}|{{ people | unique(attribute='age') | map(attribute='name') | join(',') }}"
        "|{{ people | unique(attribute='addr.city') | map(attribute='name') | join(',') }}"
        "|{{ people | unique(attribute='missing') | map(attribute='name') | join(',') }}"
        "|{{ people | unique(attribute='tags.1') | map(attribute='name') | join(',') }}|{{ messages | unique(attribute='role') | list | length }}\n"
        "min/max {{ [3, 1.5, 2, -1] | min }} {{ [3, 1.5, 2, -1] | max }} {{ ['b', 'A', 'a', 'C', 'c'] | min }} {{ ['b', 'A', 'a', 'C', 'c'] | max }}"
        " {{ ['b', 'A', 'a', 'C'] | min(true) }} {{ ['b', 'A', 'a', 'C'] | max(case_sensitive=true) }} {{ [1, 1.0, true] | max }}"
        " {{ [1.0, 1, true] | min }} {{ [0, false] | max }} [{{ [] | min }}] {{ ([] | max) is defined }} {{ 'hello' | max }} {{ {'b': 1, 'a': 2} | min }}"
        " {{ [[1, 2], [1, 3], [0, 9]] | max }} {{ [none] | max }}\n"
        "{{ (people | min(attribute='age')).name }} {{ (people | max(attribute='age')).name }} {{ (people | max(attribute='addr.city')).name }}"
        " {{ (people | min(attribute='addr.city', case_sensitive=true)).name }} {{ (people | max(attribute='tags')).name }}"
        " {{ (messages | max(attribute='content')).role }}\n"
        "sum {{ [1, 2, 3] | sum }} {{ [1, 2.5] | sum }} {{ [] | sum }} {{ [] | sum(start=1.5) }} {{ people | sum(attribute='age') }}"
        " {{ [[1], [2, 3]] | sum(start=[]) }} {{ [true, true] | sum }} {{ [0.5, 0.25, 1] | sum }} {{ [1, 2] | sum(none, 10) }}"
        " {{ people | sum('tags.0', '') if false else 'x' }} {{ [[1, [2]], [3, [4, 5]]] | sum(1, []) }} {{ messages | sum(attribute='content', start=[]) if false }}"
    ),
    # round (Python's round: halves to even on the float's exact value, an int stays an int; ceil and floor give floats),
    # indent (width as spaces or a string, first, blank, every line break str.splitlines knows), wordcount, center, batch, slice.
    "shaping": (
        "round {{ 2.5 | round }} {{ 3.5 | round }} {{ -2.5 | round }} {{ 2.675 | round(2) }} {{ 0.125 | round(2) }} {{ 0.375 | round(2) }}"
        " {{ 42.55 | round }} {{ 42.55 | round(1, 'floor') }} {{ 42.55 | round(1, 'ceil') }} {{ 7 | round }} {{ 7 | round(2) }} {{ 25 | round(-1) }}"
        " {{ 35 | round(-1) }} {{ -35 | round(-1) }} {{ 1234.5678 | round(-2) }} {{ 7 | round(0, 'ceil') }} {{ -0.4 | round }} {{ -0.4 | round(0, 'ceil') }}"
        " {{ 1.23456789e-7 | round(10) }} {{ 1e20 | round(2) }} {{ 123456.7 | round(-3, 'floor') }} {{ 2.5 | round(method='floor') }} {{ true | round }}"
        " {{ 0.1 + 0.2 | round(15) }} {{ (0.1 + 0.2) | round(16) }} {{ 5.015 | round(2) }} {{ 1.005 | round(2, 'ceil') }} {{ 99.99 | round(-2) }}"
        " {{ -0.125 | round(2) }} {{ 1.5e-320 | round(320) }} {{ 123.456 | round(400) }} {{ -5e-324 | round(-400) }} {{ 2.5e15 | round(-15) }}"
        " {{ 3.5e15 | round(-15) }} {{ 0.5 | round }} {{ 1.5 | round }} {{ -1.5 | round(0, 'floor') }} {{ 2.345 | round(2, 'floor') }} {{ 15 | round(-1, 'floor') }}"
        " {{ 123456789012345678 | round(-17) }} {{ 1e300 | round(-299) }} {{ 0.285 | round(2) }} {{ 1.0000000000000002 | round(15) }}"
        " {{ 2.5 | round(none) }} {{ -0.5 | round(none) }} {{ 3.5 | round(precision=none) }} {{ 7 | round(none) }} {{ true | round(none) }}\n"
        "indent [{{ 'a\\nb\\n\\nc' | indent }}] [{{ 'a\\nb\\n\\nc\\n' | indent(2, true) }}] [{{ 'a\\nb\\n\\nc\\n' | indent('> ', blank=true) }}]"
        " [{{ 'a\\r\\nb\\rc\\u000bd\\u000ce\\u001cf\\u0085g\\u001dx\\u001ey\\u2029z\\u2028h' | indent(1) }}] [{{ '' | indent }}] [{{ '' | indent(first=true) }}] [{{ 'x' | indent(-2, true) }}]"
        " [{{ '\\n' | indent(3, true, true) }}] [{{ messages[-1].content | indent(4) }}]\n"
        "{% for tool in tools or [] %}{{ tool.function.parameters | tojson(indent=2) | indent(4, first=true) }}\n{% endfor %}"
        "wordcount {{ 'Hello, world! It is 2024.' | wordcount }} {{ '' | wordcount }} {{ 'snake_case and café²½ 你好 ٣' | wordcount }}"
        " {{ 12.5 | wordcount }} {{ ['a b', 'c'] | wordcount }} {{ messages | map(attribute='content') | join(' ') | wordcount }}\n"
        "center [{{ 'ab' | center(7) }}] [{{ 'ab' | center(6) }}] [{{ 'abc' | center(6) }}] [{{ 'abc' | center(2) }}] [{{ 'é😀' | center(5) }}]"
        " [{{ 5 | center(4) }}] [{{ 'x' | center }}]\n"
        "batch {{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3, 4, 5] | batch(2, 0) | list }} {{ [1, 2, 3, 4] | batch(2, 'x') | list }}"
        " {{ [] | batch(3) | list }} {{ 'abcde' | batch(3, '.') | list }} {{ [1, 2] | batch(5, none) | list }} {{ [1, 2, 3] | batch(2.0) | list }}"
        " {% for row in messages | batch(2) %}{{ row | map(attribute='role') | join('+') }};{% endfor %}\n"
        "slice {{ [1, 2, 3, 4, 5, 6, 7] | slice(3) | list }} {{ [1, 2, 3, 4, 5, 6, 7] | slice(3, 0) | list }} {{ [1, 2] | slice(4) | list }}"
        " {{ [1, 2] | slice(4, '-') | list }} {{ [] | slice(2) | list }} {{ [1, 2, 3] | slice(-1) | list }} {{ 'abcdef' | slice(4) | list }}"
        "{% for x in values or [] %}\n{{ x }} {{ x | round(loop.index0 % 9 - 3) }} {{ x | round(loop.index0 % 5, 'floor') }}"
        " {{ x | round(loop.index0 % 4, 'ceil') }} {{ x | round }}{% endfor %}"
        "{% if words %}\n{{ words | sort | join(' ') }}\n{{ words | sort(true, true) | join(' ') }}\n{{ words | unique | join(' ') }}"
        "\n{{ words | min }} {{ words | max }} {{ words | min(true) }} {{ words | max(true) }}"
        "\n{{ words | map('length') | sum }} {{ values | min }} {{ values | max }}{% endif %}"
    ),
    # The Jinja that closed known gaps: groupby (attribute, default, case_sensitive; (grouper, list) tuples), truncate's
    # length/killwords/end/leeway, format and '%' (Python's %-formatting), str.format, wordwrap (textwrap), attr, escape,
    # urlencode, filesizeformat, Jinja's own title; '}}' inside a dict literal; string escapes (\x41 \u00e9 \U0001F600 \101);
    # indexing and slicing by code point; tuples against lists; sameas; dict(), cycler, joiner, namespace; tojson indents
    # past 64; chained comparisons; a loop's else after break and continue; '+%}'; the trailing newline Jinja drops.
    "gaps": (
        "{%- set people = [{'name': 'Ann', 'city': 'Paris', 'age': 31}, {'name': 'bob', 'city': 'paris', 'age': 25},"
        " {'name': 'Cy', 'city': 'Oslo'}, {'name': 'Di', 'city': 'Oslo', 'age': 25}, {'name': 'Ed'}] -%}\n"
        "{% for city, group in people | groupby('city', default='?') %}{{ city }}: {{ group | map(attribute='name') | join(', ') }}; {% endfor %}\n"
        "{% for g in people | groupby('city', default='?', case_sensitive=true) %}{{ g.grouper }}={{ g.list | length }} {% endfor %}\n"
        "{{ people | selectattr('age', 'defined') | groupby('age') | list }}\n"
        "{{ people | groupby('city', default='?') | map(attribute='grouper') | list }} {{ (people | groupby('city', default='?'))[0][0] }}\n"
        "{% set long = 'The quick brown fox jumps over the lazy dog near the river bank' %}"
        "{{ long | truncate(20) }}|{{ long | truncate(20, true) }}|{{ long | truncate(20, false, '~', 0) }}|{{ long | truncate(60) }}|"
        "{{ long | truncate(9, killwords=true, end='') }}|{{ 'short' | truncate(3, leeway=2) }}|{{ 'x😀y😀z😀w' | truncate(5, true, '…', 0) }}\n"
        "{{ '%s is %d years (%i), %.2f%% done, %r, %x/%X/%o, %5s|%-5s|%05.1f' % ('Ann', 31.9, True, 99.555, 'it\\'s', 255, 255, 8, 'ab', 'cd', 3.14159) }}\n"
        "{{ '%(name)s: %(n)03d' % {'name': 'Bo', 'n': 7} }} {{ '%s' % [1, 'a'] }} {{ '%s|%s' | format('a', none) }} {{ '%(x)s' | format(x=2.50) }}"
        " {{ '%e %g %G %.3g' % (12345.678, 0.00001234, 1e20, 2.5) }} {{ '%c%c' % (65, 'z') }} {{ '100%%' % () }}\n"
        "{{ '{} {}!'.format('Hi', 'there') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{:>6}|{:<6}|{:^7}|{:*^9}'.format('r', 'l', 'c', 'x') }}"
        " {{ '{:.2f} {:,} {:+d} {:08.3f} {:x} {:#b} {:%} {!r}'.format(3.14159, 1234567, 5, -2.5, 255, 5, 0.25, 'q') }} {{ '{name}-{0}'.format(1, name='n') }}\n"
        "{{ long | wordwrap(16) }}\n{{ 'a-very-long-hyphenated-word and more words' | wordwrap(10) }}\n"
        "{{ 'supercalifragilisticexpialidocious is long' | wordwrap(10, false) }}|{{ 'one two three' | wordwrap(5, wrapstring=' / ') }}\n"
        "{{ {'a': {'b': 1}} | tojson }} {{ {'k': [1, {'n': none}]} }} {{ '\\x41\\u00e9\\U0001F600\\101\\q\\t|' }} {{ \"a\\\"b\" }}\n"
        "{% set e = 'a😀b💡c' %}{{ e[0] }}{{ e[1] }}{{ e[-1] }}{{ e[-2] }}|{{ e[1:3] }}|{{ e[::-1] }}|{{ e[::2] }}|{{ e | length }}|{{ e.find('c') }}|{{ e | list }}\n"
        "{{ (1, 2) == [1, 2] }} {{ (1, 2) == (1, 2) }} {{ [1, 2] == [1, 2] }} {{ (1,) }} {{ (1, 'a') + (2,) }} {{ d_items }}\n"
        "{{ none is sameas none }} {{ true is sameas true }} {{ 1 is sameas true }} {{ people is sameas people }} {{ people[0] is sameas people[1] }}\n"
        "{{ dict(a=1, b='x') }} {{ dict({'z': 0}, y=1) }} {{ dict([('p', 1)]) }} {% set c = cycler('odd', 'even') %}{{ c.next() }} {{ c.next() }}"
        " {{ c.next() }} {{ c.current }}{% set j = joiner(' | ') %} [{% for w in ['x', 'y', 'z'] %}{{ j() }}{{ w }}{% endfor %}]\n"
        "{% set ns = namespace(a=1) %}{% set ns2 = namespace({'b': 2}, c=3) %}{{ ns.a }}{{ ns2.b }}{{ ns2.c }} {{ ns }} {{ namespace() is mapping }}"
        " {{ 'yes' if namespace() else 'no' }} {{ ns.missing is defined }}\n"
        "{{ {'x': [1, 2]} | tojson(indent=70) | length }} {{ [1] | tojson(indent='\\t') }}\n"
        "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1 < 0 }} {{ 'a' < 'b' in 'abc' }}\n"
        "{% for x in [1, 2] %}{{ x }}{% break %}{% else %}E{% endfor %} {% for x in [1, 2] %}{% continue %}{% else %}E{% endfor %}"
        " {% for x in [] %}{% else %}empty{% endfor %}\n"
        "{{ people[0] | attr('name') }} {{ '<a href=\"x\">&\\'' | e }} {{ 'a b/c?d=é' | urlencode }} {{ {'q': 'a b', 'n': 1} | urlencode }}"
        " {{ 1 | filesizeformat }} {{ 999 | filesizeformat }} {{ 1500000 | filesizeformat }} {{ 2048 | filesizeformat(true) }}\n"
        "{{ \"hello o'neil-smith (mr) x1y\" | title }} {{ \"hello o'neil x1y\".title() }} {{ 'ÉCOLE straße' | lower }} {{ 'straße' | upper }}"
        " {{ '42.7' | int }} {{ ' 1_000 ' | int }} {{ '0x1A' | int(0, 16) }} {{ 'inf' | float }} {{ 'x' | float(1.5) }} {{ 0x1F + 0o17 + 0b11 }}\n"
        "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.rsplit(' ', 1) }} {{ 'x-y-z'.partition('-') }} {{ 'Ab'.swapcase() }}"
        " {{ 'ab'.zfill(4) }} {{ 'ab'.center(6, '*') }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'a😀b'.rfind('b') }}\n"
        "{% if true +%}\nkept{% endif %}\n"
        "{%- set sep = '=' -%}\n"
        "{% macro pair(k, v, wrap='[]') %}{{ wrap[0] }}{{ k }}{{ sep }}{{ v }}{{ wrap[1] }}{{ varargs | length }}{% endmacro %}\n"
        "{% macro tree(node, depth=0) %}{{ '  ' * depth }}{{ node.name }}\n{% for child in node.children | default([]) %}{{ tree(child, depth + 1) }}{% endfor %}{% endmacro %}\n"
        "{% for p in people %}{{ pair(p.name, p.age | default('?')) }}{% endfor %} {{ pair('a', 1, '()') }} {{ pair('b', wrap='<>', v=2) }} {{ pair('c', 3, '{}', 4, 5) }}"
        " {{ pair('d', 4) | length }} {{ pair is callable }}\n"
        "{{ tree({'name': 'root', 'children': [{'name': 'a', 'children': [{'name': 'a1'}]}, {'name': 'b'}]}) }}"
        "{% set block %}\n  Hello {{ people[0].name }}!\n{% endset %}[{{ block }}]{% set loud | upper | replace('!', '?') %}hi {{ sep }}!{% endset %}[{{ loud }}]"
        "{% set ns = namespace(text='') %}{% set ns.text %}x{{ 1 + 1 }}{% endset %}[{{ ns.text }}]"
        "{% filter upper %}shout {{ people[1].name }}{% endfilter %}|{% filter replace('a', 'o') | title %}banana bread{% endfilter %}\n"
        "{% for p in people %}{% set line %}{{ p.name }}{% endset %}{{ line | length }}{% endfor %}"
        " {% for x in [1, 2, 3] %}{% filter upper %}a{{ x }}{% if x == 2 %}{% break %}{% endif %}{% endfilter %}{% endfor %}"
        " {% set outer %}{% set inner = 1 %}{% endset %}{{ inner is defined }} {{ 'ΟΔΟΣ ΟΔΟΣ' | title }} {{ range(3) is test }}"
    ),
    # One failing use of an ordering or shaping filter per context (probe): Jinja raises TypeError, UndefinedError or
    # FilterArgumentError; Estuary fails with a TemplateException (recorded as a "failure": only failing is compared).
    "ordering_errors": (
        "ok {%- if probe == 'sort_mixed' %}{{ [1, 'a'] | sort }}"
        "{%- elif probe == 'sort_none_int' %}{{ [none, 1] | sort }}"
        "{%- elif probe == 'sort_missing_some' %}{{ [{'a': 1}, {}] | sort(attribute='a') }}"
        "{%- elif probe == 'sort_nested_missing' %}{{ [{'a': {} }] | sort(attribute='a.b.c') }}"
        "{%- elif probe == 'sort_dicts' %}{{ [{'a': 1}, {'a': 2}] | sort }}"
        "{%- elif probe == 'dictsort_by' %}{{ {'a': 1} | dictsort(by='size') }}"
        "{%- elif probe == 'dictsort_values' %}{{ {'a': 1, 'b': 'x'} | dictsort(by='value') }}"
        "{%- elif probe == 'dictsort_list' %}{{ [1, 2] | dictsort }}"
        "{%- elif probe == 'unique_lists' %}{{ [[1], [2]] | unique | list }}"
        "{%- elif probe == 'max_none' %}{{ [none, none] | max }}"
        "{%- elif probe == 'min_mixed' %}{{ ['a', 2] | min }}"
        "{%- elif probe == 'min_missing' %}{{ [{'a': 1}, {'b': 2}] | min(attribute='a') }}"
        "{%- elif probe == 'sum_strings' %}{{ ['a', 'b'] | sum(start='') }}"
        "{%- elif probe == 'sum_str_items' %}{{ ['a', 'b'] | sum }}"
        "{%- elif probe == 'sum_missing' %}{{ [{'a': 1}, {}] | sum(attribute='a') }}"
        "{%- elif probe == 'sort_number' %}{{ 5 | sort }}"
        "{%- elif probe == 'round_method' %}{{ 2.5 | round(0, 'up') }}"
        "{%- elif probe == 'round_string' %}{{ '2.5' | round }}"
        "{%- elif probe == 'round_float_precision' %}{{ 2.5 | round(1.5) }}"
        "{%- elif probe == 'round_infinite' %}{{ 1e308 | round(10, 'ceil') }}"
        "{%- elif probe == 'indent_number' %}{{ 5 | indent }}"
        "{%- elif probe == 'indent_float_width' %}{{ 'a\nb' | indent(1.5) }}"
        "{%- elif probe == 'center_string_width' %}{{ 'a' | center('9') }}"
        "{%- elif probe == 'batch_string_count' %}{{ [1, 2] | batch('2') | list }}"
        "{%- elif probe == 'round_none_ceil' %}{{ 2.5 | round(none, 'ceil') }}"
        "{%- elif probe == 'unique_tuple_list' %}{{ [('a', [1])] | unique | list }}"
        "{%- elif probe == 'sort_tuple_list' %}{{ [(1, 2), [1, 3]] | sort }}"
        "{%- elif probe == 'round_ceil_tiny_scale' %}{{ 2.5 | round(-400, 'ceil') }}"
        "{%- elif probe == 'slice_zero' %}{{ [1, 2] | slice(0) | list }}"
        "{%- elif probe == 'split_empty' %}{{ 'abc'.split('') }}"
        "{%- elif probe == 'truncate_short' %}{{ 'abcdef' | truncate(2) }}"
        "{%- elif probe == 'format_missing' %}{{ '%s %s' % ('a',) }}"
        "{%- elif probe == 'format_extra' %}{{ '%s' % ('a', 'b') }}"
        "{%- elif probe == 'format_both' %}{{ '%s' | format('a', b=1) }}"
        "{%- elif probe == 'format_type' %}{{ '%d' % 'x' }}"
        "{%- elif probe == 'str_format_index' %}{{ '{1}'.format('a') }}"
        "{%- elif probe == 'wordwrap_zero' %}{{ 'a b' | wordwrap(0) }}"
        "{%- elif probe == 'tuple_plus_list' %}{{ (1,) + [2] }}"
        "{%- elif probe == 'range_lt_list' %}{{ range(2) < [1] }}"
        "{%- elif probe == 'slice_none' %}{{ tools[1:] }}"
        "{%- endif %}"
    ),
}

# The tools of the older templates' renderings, as an OpenAI request lists them.
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                                                     "required": ["city"]}}},
    {"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}},
]

# Tools with nested schemas, for the indented JSON of the Llama 3 templates: objects in arrays in objects, empty ones, enums,
# non-ASCII text (kept as is, outside the BMP too), characters Jinja's own tojson would HTML-escape (<, >, &, ') that
# transformers' tojson keeps, escapes (", \, newline, tab), booleans, null, integers and floats.
LLAMA_TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Weather for a place — «météo» <now> & 'later' 🌦",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "A city, e.g. \"São Paulo\" or 東京\\Tōkyō"},
                "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "at": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}, "required": ["lat", "lon"]},
                "fields": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "hourly": {"type": "boolean"}}}},
                "extra": {"type": "object", "properties": {}, "required": []},
            },
            "required": ["city"],
        },
    }},
    {"type": "function", "function": {
        "name": "search",
        "description": "Search the web\n\tone query at a time",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer", "default": 5},
            "safe": {"type": "boolean", "default": True},
            "threshold": {"type": "number", "default": 0.25},
            "lang": {"type": ["string", "null"], "default": None},
        }, "required": ["query"]},
    }},
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
    # One call per turn (Llama 3), nested arguments, a text result with characters JSON and HTML treat specially.
    "llama_call": [
        {"role": "system", "content": " Answer briefly. "},
        {"role": "user", "content": "Weather in São Paulo for 3 days? "},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather",
                                                          "arguments": "{\"city\": \"São Paulo\", \"days\": 3, \"at\": {\"lat\": -23.55, \"lon\": -46.63}, \"fields\": [{\"name\": \"rain\", \"hourly\": true}], \"extra\": {}}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "<b>22°C</b> & 'humid' \"80%\""},
        {"role": "assistant", "content": "22°C and humid."},
        {"role": "user", "content": "Thanks!"},
    ],
    # A built-in tool (python_tag call syntax when builtin_tools lists it) answered in the ipython role.
    "builtin_call": [
        {"role": "user", "content": "Who won the 2022 World Cup?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c2", "type": "function", "function": {"name": "brave_search", "arguments": "{\"query\": \"2022 World Cup winner\"}"}}]},
        {"role": "ipython", "content": "Argentina"},
    ],
    "two_calls": [
        {"role": "user", "content": "Two things"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "search", "arguments": "{\"query\": \"x\"}"}},
            {"id": "b", "type": "function", "function": {"name": "search", "arguments": "{\"query\": \"y\"}"}}]},
    ],
    "system_only": [{"role": "system", "content": "Nobody asks anything."}],
    # Content that is not a string: a tool result as a mapping, text parts, an image part (templates only; the server sends text).
    "tool_dict": [
        {"role": "user", "content": "Search for the tide times"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c3", "type": "function", "function": {"name": "search", "arguments": "{\"query\": \"tide times\", \"limit\": 2, \"threshold\": 0.5}"}}]},
        {"role": "tool", "tool_call_id": "c3", "content": {"results": [{"title": "Tides <Brest>", "high": "06:12"}, {"title": "Marées", "high": None}], "ok": True, "count": 2, "score": 1.5e-7}},
    ],
    "parts": [
        {"role": "system", "content": [{"type": "text", "text": "  Be brief.  "}]},
        {"role": "user", "content": [{"type": "text", "text": " First part. "}, {"type": "text", "text": "Second part "}]},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": [{"type": "text", "text": "Third"}]},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c4", "type": "function", "function": {"name": "search", "arguments": "{\"query\": \"parts\"}"}}]},
        {"role": "tool", "tool_call_id": "c4", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": " two "}]},
    ],
    "image": [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is in this picture?"}]},
    ],
}

# Variables a rendering passes besides messages and add_generation_prompt (transformers' tools, passed as None when there are
# none, and template kwargs such as date_string), and the clock strftime_now reads ("now", local time).
NOW = "2024-07-26T09:05:03"
# Seeded random values for round (ties at every precision: eighths, halves, x.xx5; magnitudes from 1e-8 to 1e17; ints) and
# words for sort, unique, min and max (mixed case, accents, digits, characters past U+FFFF).
_rng = random.Random(20240726)
FUZZ_VALUES = ([_rng.randint(-4000, 4000) / 8 for _ in range(40)] + [round(_rng.uniform(-100, 100), 3) for _ in range(40)]
               + [_rng.uniform(-1, 1) * 10 ** _rng.randint(-8, 17) for _ in range(60)] + [_rng.randint(-10 ** 6, 10 ** 6) for _ in range(20)])
FUZZ_WORDS = ["".join(_rng.choice("aAbBzZ\u00e9\u00c9\u00df09_ \U0001F600") for _ in range(_rng.randint(0, 4))) for _ in range(80)]
# The failing uses of the ordering_errors template, one per context.
PROBES = ['sort_mixed', 'sort_none_int', 'sort_missing_some', 'sort_nested_missing', 'sort_dicts', 'dictsort_by', 'dictsort_values', 'dictsort_list', 'unique_lists', 'max_none', 'min_mixed', 'min_missing', 'sum_strings', 'sum_str_items', 'sum_missing', 'sort_number', 'round_method', 'round_string', 'round_float_precision', 'round_infinite', 'indent_number', 'indent_float_width', 'center_string_width', 'batch_string_count', 'round_none_ceil', 'unique_tuple_list', 'sort_tuple_list', 'round_ceil_tiny_scale', 'slice_zero',
          'split_empty', 'truncate_short', 'format_missing', 'format_extra', 'format_both', 'format_type', 'str_format_index', 'wordwrap_zero',
          'tuple_plus_list', 'range_lt_list', 'slice_none']
CONTEXTS = {
    "tools": {"variables": {"tools": TOOLS}},
    "no_tools": {"variables": {}},
    "tools_in_user": {"variables": {"tools": LLAMA_TOOLS, "tools_in_user_message": True}},
    "tools_in_system": {"variables": {"tools": LLAMA_TOOLS, "tools_in_user_message": False}},
    "dated": {"variables": {"date_string": "14 Mar 2025"}},
    "custom_builtin": {"variables": {"custom_tools": LLAMA_TOOLS[:1], "builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"],
                                     "tools_in_user_message": False}},
    "evening": {"variables": {"tools": LLAMA_TOOLS}, "now": "2025-01-03T21:07:09"},
    "new_year": {"variables": {"tools": TOOLS}, "now": "2026-01-01T00:30:00"},
    **{"probe_" + probe: {"variables": {"probe": probe}} for probe in PROBES},
    "fuzz": {"variables": {"values": FUZZ_VALUES, "words": FUZZ_WORDS}},
    "gaps": {"variables": {"d_items": [["a", 1]]}},
}

# Which conversations and contexts each template is rendered over, and its bos/eos texts.
TEXT_CONVERSATIONS = [c for c, ms in CONVERSATIONS.items() if all(isinstance(m["content"], str) for m in ms)]
LLAMA = {"conversations": list(CONVERSATIONS), "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
RUNS = {
    **{name: {"conversations": TEXT_CONVERSATIONS, "contexts": ["tools"], "bos_token": "<s>", "eos_token": "</s>"}
       for name in ["inst", "tags", "im", "ns", "misc", "tooluse"]},
    "llama3_1_tools": {**LLAMA, "contexts": ["no_tools", "tools_in_user", "tools_in_system", "dated", "custom_builtin"]},
    "llama3_2": {**LLAMA, "contexts": ["no_tools", "tools_in_user", "tools_in_system", "dated", "evening"]},
    "ordering": {"conversations": ["single", "system", "multi"], "contexts": ["tools", "tools_in_user", "no_tools"], "bos_token": "<s>", "eos_token": "</s>"},
    "shaping": {"conversations": ["single", "multi"], "contexts": ["tools", "no_tools", "fuzz"], "bos_token": "<s>", "eos_token": "</s>"},
    "gaps": {"conversations": ["single"], "contexts": ["gaps"], "bos_token": "<s>", "eos_token": "</s>"},
    "ordering_errors": {"conversations": ["single"], "contexts": ["no_tools"] + ["probe_" + probe for probe in PROBES], "bos_token": "<s>", "eos_token": "</s>"},
    "options": {"conversations": ["single"], "contexts": ["no_tools", "tools_in_user", "evening", "new_year"], "bos_token": "<s>", "eos_token": "</s>"},
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


# transformers' apply_chat_template environment (utils/chat_template_utils.py): raise_exception and strftime_now as globals,
# and its own tojson filter (json.dumps, no HTML escaping, non-ASCII kept unless asked).
def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    assert set(RUNS) == set(TEMPLATES)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = tojson
    cases = []
    for name, source in TEMPLATES.items():
        template = env.from_string(source)
        run = RUNS[name]
        for context in run["contexts"]:
            now = datetime.datetime.fromisoformat(CONTEXTS[context].get("now", NOW))
            env.globals["strftime_now"] = now.strftime  # datetime.now().strftime in transformers; a fixed clock here
            for conversation in run["conversations"]:
                for add_generation_prompt in (True, False):
                    case = {"template": name, "conversation": conversation, "context": context,
                            "add_generation_prompt": add_generation_prompt, "bos_token": run["bos_token"], "eos_token": run["eos_token"]}
                    variables = dict(CONTEXTS[context]["variables"])
                    try:
                        case["rendered"] = template.render(messages=for_template(CONVERSATIONS[conversation]), tools=variables.pop("tools", None),
                                                           documents=None, add_generation_prompt=add_generation_prompt,
                                                           bos_token=run["bos_token"], eos_token=run["eos_token"], **variables)
                    except Exception as e:  # noqa: BLE001 - every failure is recorded
                        if type(e) is jinja2.exceptions.TemplateError:  # raise_exception's own message, compared exactly
                            case["error"] = str(e)
                        else:  # Jinja's own TypeError, UndefinedError, FilterArgumentError…: only that it fails is compared
                            case["failure"] = f"{type(e).__name__}: {e}"
                            assert name == "ordering_errors", f"{name} fails in Jinja itself ({case['failure']}): only the probes may"
                    cases.append(case)
    out = pathlib.Path(__file__).resolve().parent.parent / "tests/Estuary.Tokenization.Tests/Data/chat_templates.json"
    out.write_text(json.dumps({"generator": "scripts/chat-template-references.py", "jinja2": jinja2.__version__, "now": NOW,
                               "templates": TEMPLATES, "contexts": CONTEXTS, "conversations": CONVERSATIONS, "cases": cases},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} cases, {sum('error' in c for c in cases)} errors, {sum('failure' in c for c in cases)} failures → {out}")


if __name__ == "__main__":
    main()
