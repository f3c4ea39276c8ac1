#!/usr/bin/env python3
"""Differential fuzzing of Estuary's chat-template renderer against Jinja2: writes random templates over the constructs chat
templates use (if/elif/else, for with loop.* and else and filters, set (also blocks), filter blocks, namespace, macros, break/continue, filters with arguments,
tests, str methods, slicing, arithmetic, comparisons, ~, in, '-' and '+' whitespace control next to trim_blocks and
lstrip_blocks) with random variables (messages with unicode, None, numbers, nested dicts and tool calls), renders each
with Jinja2 in transformers' environment, and writes the cases for TemplateDifferentialTests.

  python3 scripts/chat-template-fuzz.py --seed 1 --count 2000 --out /tmp/fuzz.json
  ESTUARY_TEMPLATE_CASES=/tmp/fuzz.json dotnet test tests/Estuary.Tokenization.Tests -c Release --filter TemplateDifferential

Without --out it rewrites the committed corpus, tests/Estuary.Tokenization.Tests/Data/chat_template_fuzz.json (seed 0).
Mismatches land in FILE.mismatches.json. Needs only Python's standard library and jinja2."""
import argparse
import warnings
import datetime
import importlib.util
import json
import pathlib
import random

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("references", ROOT / "scripts/chat-template-references.py")
references = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(references)

NOW = "2024-07-26T09:05:03"


def environment():
    """transformers' apply_chat_template environment (see chat-template-references.py)."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = references.raise_exception
    env.globals["strftime_now"] = datetime.datetime.fromisoformat(NOW).strftime
    env.filters["tojson"] = references.tojson
    return env


def render_case(env, name, source, variables):
    """One case: the rendered text, raise_exception's message ("error"), or Jinja's own failure ("failure")."""
    case = {"name": name, "template": source, "variables": variables}
    try:
        case["rendered"] = env.from_string(source).render(**variables)
        case["rendered"].encode("utf-8")  # lone surrogates cannot be written: such a case is left out
        json.dumps(case["rendered"])
    except jinja2.exceptions.TemplateError as e:
        if type(e) is jinja2.exceptions.TemplateError:
            case["error"] = str(e)
        else:
            case["failure"] = f"{type(e).__name__}: {e}"
    except UnicodeEncodeError:
        return None
    except Exception as e:  # noqa: BLE001 - TypeError, ValueError, OverflowError …: Estuary must fail too
        case["failure"] = f"{type(e).__name__}: {e}"
    return case


# ---- random values ----

ALPHABET = list("abcxyzABCXYZ019 _-.,:;!?'\"<>&/\\|") + ["  ", "\n", "\t", " \n ", "é", "É", "ß", "你", "好", "😀", "🌦", "Σ", "ñ", "İ", "ﬁ", "\u00a0", "\u200b", "%", "{", "}", "\r\n"]
WORDS = ["hello", "World", "foo-bar", "x", "", "  pad  ", "São Paulo", "naïve", "ÉCOLE", "straße", "東京", "😀 emoji", "tab\there", "new\nline", "a'b", 'q"q', "<tag>", "50%", "{x}", "UPPER", "lower", "Mixed Case words here", "hyphen-ated-word", "superlongwordwithoutanyspacesatall"]
ROLES = ["system", "user", "assistant", "tool", "user", "assistant"]


def rstr(rng, short=False):
    if rng.random() < 0.4:
        return rng.choice(WORDS)
    n = rng.randint(0, 6 if short else 24)
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def rnum(rng):
    return rng.choice([0, 1, 2, 3, -1, 7, 10, 42, -17, 100, 255, 256, 1000, 2.5, -0.5, 0.1, 1e-5, 3.14159, 1e20, 1.0, 0.125, -3.75, 12345.678])


def message(rng):
    role = rng.choice(ROLES)
    m = {"role": role, "content": rstr(rng)}
    r = rng.random()
    if r < 0.03:
        m["content"] = None
    elif r < 0.07:
        m["content"] = [{"type": "text", "text": rstr(rng)} for _ in range(rng.randint(1, 3))]
    if role == "assistant" and rng.random() < 0.3:
        m["tool_calls"] = [{"id": f"call_{i}", "type": "function",
                            "function": {"name": rng.choice(["get_weather", "search", "add"]),
                                         "arguments": {"city": rstr(rng, True), "days": rng.randint(1, 5)} if rng.random() < 0.7 else {}}}
                           for i in range(rng.randint(1, 2))]
    if role == "tool":
        m["tool_call_id"] = "call_0"
    if rng.random() < 0.1:
        m["extra"] = {"n": rnum(rng), "tags": [rstr(rng, True) for _ in range(2)], "none": None}
    return m


def variables(rng):
    return {
        "messages": [message(rng) for _ in range(rng.randint(1, 5))],
        "tools": None if rng.random() < 0.5 else references.TOOLS,
        "add_generation_prompt": rng.random() < 0.5,
        "bos_token": "<s>", "eos_token": "</s>",
        "s": rstr(rng), "t": rstr(rng, True),
        "n": rng.choice([0, 1, 2, 3, -1, 5, 7, 10, -4, 100]), "k": rng.randint(1, 4), "f": rnum(rng),
        "flag": rng.random() < 0.5, "nothing": None,
        "xs": [rng.randint(-5, 20) for _ in range(rng.randint(0, 6))],
        "ws": [rstr(rng, True) for _ in range(rng.randint(0, 5))],
        "ds": [{k: v for k, v in {"a": rng.randint(0, 3), "b": rng.choice(["x", "Y", "y", "z", "X"]), "c": {"d": rng.randint(0, 2)}}.items()
                if rng.random() < 0.97} for _ in range(rng.randint(0, 5))],
        "d": {"name": rstr(rng, True), "size": rng.randint(0, 9), "nested": {"list": [1, "two", None, 3.5], "flag": True}, "items": [1, 2]},
    }


# ---- random templates ----

STR_FILTERS = ["upper", "lower", "title", "capitalize", "trim", "string", "length", "wordcount", "reverse | list", "e", "urlencode",
               "center(12)", "indent(2)", "indent(2, true)", "indent('> ', blank=true)", "replace('a', 'o')", "replace(' ', '')",
               "truncate(9)", "truncate(10, true)", "truncate(8, false, '…', 0)", "truncate(12, killwords=true, end='')",
               "wordwrap(8)", "wordwrap(12, false)", "wordwrap(10, wrapstring='|')", "wordwrap(6, break_on_hyphens=false)",
               "list", "first", "last", "tojson", "tojson(indent=2)", "int", "float", "default('D')", "d('x', true)",
               "trim('x ')", "format", "count", "unique | list", "sort | join", "batch(3) | list", "slice(2) | list", "min", "max"]
STR_METHODS = ["strip()", "lstrip()", "rstrip('\\n ')", "upper()", "lower()", "title()", "capitalize()", "swapcase()",
               "split()", "split(' ')", "split('-', 1)", "rsplit(' ', 1)", "splitlines()", "replace('o', '0')", "find('a')",
               "rfind('o')", "count('a')", "startswith('a')", "endswith(('x', 'd'))", "isdigit()", "isalpha()", "isspace()",
               "isupper()", "islower()", "istitle()", "zfill(6)", "ljust(8, '.')", "rjust(7)", "center(9, '*')",
               "removeprefix('he')", "removesuffix('o')", "partition(' ')", "rpartition('-')", "split('')", "strip('ab')"]
TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "sequence", "iterable", "even", "odd",
         "divisibleby(3)", "lower", "upper", "true", "false", "boolean", "sameas none", "sameas true", "eq 3", "in ['x', 3, 'a']",
         "callable", "filter", "test", "escaped", "gt 2", "le 'm'"]
FORMATS = [("'%s'", "a"), ("'%d items'", "n"), ("'%5.2f|'", "n"), ("'%-6s|%s'", "sa"), ("'%x %X %o'", "nnn"), ("'%r'", "a"), ("'%e'", "n"),
           ("'%g'", "n"), ("'%.3g|%10.4f'", "nn"), ("'%+d%%'", "n"), ("'%c'", "s"), ("'%(a)s'", "a"), ("'%05d|% i'", "nn"), ("'%.2s'", "s")]
NUM_FILTERS = ['int', 'float', 'abs', 'round', 'round(1)', 'round(2, "floor")', 'int(7)']
# (select, reject, map and reverse give iterators, printed with their address: always listed here)
LIST_FILTERS = ['reverse | list', 'sort', 'unique | list', 'list', 'sort(reverse=true)', 'batch(2) | list', 'slice(3) | list', 'select | list',
                'reject | list', 'map("string") | list', 'select("odd") | list', 'reject("string") | list', 'select("defined") | list',
                'map("upper") | list', 'map("truncate", 5) | list', 'map("default", "-") | list']
SPLITS = ['split()', 'split(" ")', 'splitlines()', 'rsplit("-", 1)']
STR_FORMATS = ["'{}'", "'{0}-{0}'", "'{:>6}'", "'{:^9}'", "'{:.2f}'", "'{!r}'", "'{:,}'", "'{:08.3f}'", "'{:x}'", "'{:+}'", "'{:e}'", "'{:%}'", "'{:*<5}'"]


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.scope = {"s": "str", "t": "str", "n": "int", "k": "int", "f": "num", "flag": "bool", "nothing": "none",
                      "xs": "list", "ws": "list", "ds": "dicts", "d": "dict", "messages": "dicts", "bos_token": "str"}
        self.loops = 0
        self.names = 0

    def pick(self, kind):
        names = [n for n, k in self.scope.items() if k == kind]
        return self.rng.choice(names) if names else None

    def lit_str(self):
        s = rstr(self.rng, True)
        q = self.rng.choice(["'", '"'])
        body = s.replace("\\", "\\\\").replace(q, "\\" + q).replace("\n", self.rng.choice(["\\n", "\n"])).replace("\t", "\\t")
        if self.rng.random() < 0.15:
            body += self.rng.choice(["\\x41", "\\u00e9", "\\U0001F600", "\\101", "\\q", "\\'" if q == "'" else '\\"', "\\0", "\\\n"])
        return q + body + q

    def p(self, e):
        return f"({e})" if self.rng.random() < 0.7 else e

    def str_expr(self, d=0):
        r = self.rng
        leaf = [lambda: self.lit_str(), lambda: self.pick("str") or "s", lambda: "bos_token",
                lambda: f"messages[{r.choice([0, -1])}].content", lambda: f"messages[0]['role']",
                lambda: f"d.name", lambda: f"(ws | first)", lambda: f"d['nested']['list'][1]"]
        if d > 2 or r.random() < 0.35:
            return r.choice(leaf)()
        opts = [
            lambda: f"{self.p(self.str_expr(d + 1))} ~ {self.p(self.any_expr(d + 1))}",
            lambda: f"{self.p(self.str_expr(d + 1))} + {self.p(self.str_expr(d + 1))}",
            lambda: f"{self.p(self.str_expr(d + 1))} | {r.choice(STR_FILTERS)}",
            lambda: f"{self.p(self.str_expr(d + 1))}.{r.choice(STR_METHODS)}",
            lambda: f"{self.p(self.str_expr(d + 1))}[{r.randint(-4, 4)}]",
            lambda: f"{self.p(self.str_expr(d + 1))}[{self.slice()}]",
            lambda: f"{self.p(self.any_expr(d + 1))} | string",
            lambda: f"{self.p(self.any_expr(d + 1))} | tojson",
            lambda: self.percent_format(d),
            lambda: f"'%s' | format({self.any_expr(d + 1)})",
            lambda: f"'%s and %s' | format({self.any_expr(d + 1)}, {self.any_expr(d + 1)})",
            lambda: f"'%(a)s/%(b)s' | format(a={self.any_expr(d + 1)}, b={self.str_expr(d + 1)})",
            lambda: f"{r.choice(STR_FORMATS)}.format({self.num_expr(d + 1)})",
            lambda: f"'{{}}|{{:>6}}|{{!r}}'.format({self.any_expr(d + 1)}, {self.str_expr(d + 1)}, {self.str_expr(d + 1)})",
            lambda: f"{self.p(self.list_expr(d + 1))} | join({self.lit_str()})",
            lambda: f"({self.str_expr(d + 1)} if {self.bool_expr(d + 1)} else {self.str_expr(d + 1)})",
            lambda: f"{self.p(self.str_expr(d + 1))} * {r.randint(0, 3)}",
            lambda: f"{self.p(self.any_expr(d + 1))} | filesizeformat",
        ]
        return r.choice(opts)()

    def percent_format(self, d):
        r = self.rng
        fmt, kinds = r.choice(FORMATS)
        values = [self.num_expr(d + 1) if k == "n" else self.str_expr(d + 1) if k == "s" else self.any_expr(d + 1) for k in kinds]
        if fmt.startswith("'%(a)"):
            return f"{fmt} % {{'a': {values[0]}}}"
        if len(values) == 1 and r.random() < 0.5:
            return f"{fmt} % {self.p(values[0])}"
        return f"{fmt} % ({', '.join(values)},)"

    def slice(self):
        r = self.rng
        a, b, c = (r.choice(["", str(r.randint(-4, 4))]) for _ in range(3))
        return f"{a}:{b}" + (f":{c}" if r.random() < 0.5 and c != "0" else "")

    def num_expr(self, d=0):
        r = self.rng
        leaf = [lambda: str(r.choice([0, 1, 2, 3, -1, 7, 10, 2.5, 0.5, 1e3, 0x1F])), lambda: self.pick("int") or "n", lambda: "f",
                lambda: "k", lambda: "loop.index" if self.loops else "n", lambda: "xs | length", lambda: "d.size"]
        if d > 2 or r.random() < 0.4:
            return r.choice(leaf)()
        opts = [
            lambda: f"{self.p(self.num_expr(d + 1))} {r.choice(['+', '-', '*', '/', '//', '%', '**'])} {self.p(self.num_expr(d + 1))}",
            lambda: f"-{self.p(self.num_expr(d + 1))}",
            lambda: f"{self.p(r.choice([self.str_expr, self.list_expr])(d + 1))} | length",
            lambda: f"{self.p(r.choice([self.str_expr, self.num_expr])(d + 1))} | {r.choice(NUM_FILTERS)}",
            lambda: f"{self.p(self.list_expr(d + 1))} | {r.choice(['sum', 'min', 'max', 'length', 'first', 'last'])}",
            lambda: f"{self.p(self.str_expr(d + 1))}.{r.choice(['find', 'count', 'rfind'])}({self.lit_str()})",
            lambda: f"{self.p(self.str_expr(d + 1))} | {r.choice(['int', 'float', 'wordcount', 'length'])}",
        ]
        return r.choice(opts)()

    def list_expr(self, d=0):
        r = self.rng
        leaf = [lambda: "xs", lambda: "ws", lambda: "ds", lambda: "messages", lambda: f"range({r.randint(0, 5)})",
                lambda: "[" + ", ".join(self.any_expr(3) for _ in range(r.randint(0, 4))) + "]",
                lambda: "(" + ", ".join(self.any_expr(3) for _ in range(r.randint(2, 3))) + ")",
                lambda: "d.nested.list", lambda: "d['items']", lambda: self.pick("list") or "xs"]
        if d > 2 or r.random() < 0.4:
            return r.choice(leaf)()
        attr = r.choice(["'a'", "'b'", "'c.d'", "'role'", "'content'"])
        opts = [
            lambda: f"{self.p(self.list_expr(d + 1))} | {r.choice(LIST_FILTERS)}",
            lambda: f"{self.p(self.list_expr(d + 1))}[{self.slice()}]",
            lambda: f"{self.p(self.str_expr(d + 1))}.{r.choice(SPLITS)}",
            lambda: f"{self.p(self.str_expr(d + 1))} | list",
            lambda: f"ds | {r.choice(['selectattr', 'rejectattr'])}({attr}) | list",
            lambda: f"ds | selectattr({attr}, 'equalto', {r.choice(['1', 'x', '0'])!r}) | list",
            lambda: f"ds | map(attribute={attr}) | list",
            lambda: f"ds | map(attribute={attr}, default='?') | list",
            lambda: f"ds | sort(attribute={attr})",
            lambda: f"ds | groupby({attr})",
            lambda: f"ds | groupby({attr}, default='none')",
            lambda: f"ds | groupby('b', case_sensitive=true)",
            lambda: f"ds | groupby({attr}) | map(attribute='grouper') | list",
            lambda: f"ds | groupby('b') | map(attribute='list') | map('length') | list",
            lambda: f"messages | map(attribute='role') | list",
            lambda: f"{self.p(self.list_expr(d + 1))} + {self.p(self.list_expr(d + 1))}",
            lambda: f"d | dictsort",
            lambda: f"d.items() | list",
            lambda: f"d | items | list",
            lambda: f"dict(a={self.any_expr(d + 1)}, b=2).items() | list",
            lambda: f"d.keys() | list",
        ]
        return r.choice(opts)()

    def bool_expr(self, d=0):
        r = self.rng
        leaf = [lambda: "flag", lambda: "true", lambda: "false", lambda: "add_generation_prompt", lambda: "loop.first" if self.loops else "flag",
                lambda: "loop.last" if self.loops else "tools is none", lambda: "tools"]
        if d > 2 or r.random() < 0.3:
            return r.choice(leaf)()
        opts = [
            lambda: f"{self.p(self.any_expr(d + 1))} is {'not ' if r.random() < 0.3 else ''}{r.choice(TESTS)}",
            lambda: f"{self.p(self.num_expr(d + 1))} {r.choice(['==', '!=', '<', '>', '<=', '>='])} {self.p(self.num_expr(d + 1))}",
            lambda: f"{self.p(self.str_expr(d + 1))} {r.choice(['==', '!=', '<', '>', '<=', '>='])} {self.p(self.str_expr(d + 1))}",
            lambda: f"{self.p(self.any_expr(d + 1))} == {self.p(self.any_expr(d + 1))}",
            lambda: f"{self.p(self.str_expr(d + 1))} {r.choice(['in', 'not in'])} {self.p(self.str_expr(d + 1))}",
            lambda: f"{self.p(self.any_expr(d + 1))} {r.choice(['in', 'not in'])} {self.p(self.list_expr(d + 1))}",
            lambda: f"'{r.choice(['name', 'size', 'x', 'items'])}' in d",
            lambda: f"{self.p(self.bool_expr(d + 1))} {r.choice(['and', 'or'])} {self.p(self.bool_expr(d + 1))}",
            lambda: f"not {self.p(self.bool_expr(d + 1))}",
            lambda: f"(1, 2) == [1, 2]",
            lambda: f"{self.p(self.list_expr(d + 1))} {r.choice(['<', '=='])} {self.p(self.list_expr(d + 1))}",
        ]
        return r.choice(opts)()

    def any_expr(self, d=0):
        r = self.rng.random()
        if r < 0.35:
            return self.str_expr(d)
        if r < 0.6:
            return self.num_expr(d)
        if r < 0.75:
            return self.list_expr(d)
        if r < 0.85:
            return self.bool_expr(d)
        return self.rng.choice(["nothing", "none", "d", "d.nested", "messages[0]", "tools", "undefined_name", "ns" if "ns" in self.scope else "d",
                                "{'a': {'b': [1, {'c': 'd'}]}}", "{'k': " + self.str_expr(d + 1) + "}", "dict(x=1, y=[2])", "namespace(a=1)"])

    # ---- statements ----

    def ws(self):
        return self.rng.choice(["", "", " ", "\n", "  ", "\n    ", "\n\n", "\t"])

    def tag(self, body, output=False):
        r = self.rng
        left = r.choice(["", "", "-", "+"] if not output else ["", "-"])
        right = r.choice(["", "", "-", "+"] if not output else ["", "-"])
        if output:
            return "{{" + left + " " + body + " " + right + "}}"
        return "{%" + left + " " + body + " " + right + "%}"

    def text(self):
        return self.rng.choice(["", "x", " a ", "\n", "  \n", "[", "]\n", "  indented\n", "<|im_start|>", "\t", rstr(self.rng, True)])

    def block(self, d, n=None):
        r = self.rng
        out = []
        for _ in range(n or r.randint(1, 4)):
            out.append(self.ws())
            out.append(self.statement(d))
        return "".join(out)

    def statement(self, d):
        r = self.rng
        kinds = ["output", "output", "output", "text", "set"]
        if d < 3:
            kinds += ["if", "for", "for", "capture"]
        if self.loops and d > 0:
            kinds += ["control"]
        if "ns" in self.scope:
            kinds += ["nsset"]
        kind = r.choice(kinds)
        if kind == "text":
            return self.text()
        if kind == "output":
            if "show" in self.scope and r.random() < 0.3:
                msg = self.pick("msg") or f"messages[{r.choice([0, -1])}]"
                return self.tag(r.choice([f"show({msg})", f"show({msg}, sep=' > ')", f"wrap({self.any_expr(1)})",
                                          f"wrap({self.str_expr(1)}, '[', right=']')", f"wrap(1, 2, 3, 4)", f"show({msg}) | length"]), output=True)
            return self.tag(self.any_expr(), output=True)
        if kind == "set":
            name = f"v{self.names}"
            self.names += 1
            kind2 = r.choice(["str", "num", "list"])
            expr = {"str": self.str_expr, "num": self.num_expr, "list": self.list_expr}[kind2]()
            self.scope[name] = {"str": "str", "num": "int", "list": "list"}[kind2]
            return self.tag(f"set {name} = {expr}")
        if kind == "capture":  # block set and filter blocks
            if r.random() < 0.5:
                name = f"v{self.names}"
                self.names += 1
                body = self.block(d + 1, r.randint(1, 2))
                self.scope[name] = "str"
                head = f"set {name}" + r.choice(["", "", " | upper", " | trim | replace('a', '@')", " | length"])
                return self.tag(head) + body + self.tag("endset")
            return self.tag("filter " + r.choice(["upper", "trim", "title", "replace(' ', '_')", "indent(2) | trim", "truncate(12)"])) \
                + self.block(d + 1, r.randint(1, 2)) + self.tag("endfilter")
        if kind == "nsset":
            return self.tag(r.choice([f"set ns.count = ns.count + {self.num_expr(2)}", f"set ns.text = ns.text ~ {self.str_expr(2)}",
                                      f"set ns.found = {self.bool_expr(2)}"]))
        if kind == "control":
            return self.tag(f"if {self.bool_expr(2)}") + r.choice(["{% break %}", "{% continue %}", "{%- break -%}"]) + self.tag("endif")
        if kind == "if":
            s = self.tag(f"if {self.bool_expr()}") + self.block(d + 1)
            for _ in range(r.choice([0, 0, 1, 2])):
                s += self.ws() + self.tag(f"elif {self.bool_expr()}") + self.block(d + 1)
            if r.random() < 0.5:
                s += self.ws() + self.tag("else") + self.block(d + 1)
            return s + self.ws() + self.tag("endif")
        # for
        saved = dict(self.scope)
        var = f"x{self.names}"
        self.names += 1
        source = r.random()
        if source < 0.3:
            head, self.scope[var] = f"for {var} in messages", "msg"
        elif source < 0.45:
            head, self.scope[var] = f"for {var} in ws", "str"
        elif source < 0.6:
            head, self.scope[var] = f"for {var} in {self.list_expr(1)}", "any"
        elif source < 0.7:
            head = f"for key, value in d | dictsort"
            self.scope["key"], self.scope["value"] = "str", "any"
        elif source < 0.8:
            head = f"for g in ds | groupby('b')"
            self.scope["g"] = "group"
        elif source < 0.9:
            head, self.scope[var] = f"for {var} in {self.str_expr(1)}", "str"
        else:
            head, self.scope[var] = f"for {var} in messages if {var}.role != 'system'", "msg"
        self.loops += 1
        extra = ""
        if self.scope.get(var) == "msg":
            extra = self.tag(self.rng.choice([f"{var}.role", f"{var}['content']", f"{var}.content is string", f"{var}.tool_calls | length",
                                               f"{var}.content | trim if {var}.content is string else {var}.content | tojson"]), output=True)
        if "g" in self.scope and head.startswith("for g"):
            extra = self.tag(self.rng.choice(["g.grouper ~ ':' ~ g.list | length", "g[0]", "g.list | map(attribute='a') | join(',')", "g"]), output=True)
        loopy = self.tag(self.rng.choice(["loop.index", "loop.index0", "loop.revindex", "loop.length", "loop.first", "loop.last",
                                          "loop.previtem", "loop.nextitem", "loop.cycle('a', 'b')", "loop.depth", "loop.changed(1)"]), output=True)
        body = extra + loopy + self.block(d + 1)
        self.loops -= 1
        s = self.tag(head) + body
        if r.random() < 0.25:
            s += self.tag("else") + self.block(d + 1, 1)
        self.scope = saved
        return s + self.ws() + self.tag("endfor")

    def template(self):
        r = self.rng
        head = ""
        if r.random() < 0.3:
            head += ("{%- macro show(m, sep=': ') -%}{{ m.role }}{{ sep }}{{ m.content if m.content is string else m.content | tojson }}"
                     "{%- endmacro %}\n{% macro wrap(x, left='<', right='>') %}{{ left }}{{ x }}{{ right }}{{ varargs | join(',') }}{% endmacro %}\n")
            self.scope["show"] = self.scope["wrap"] = "macro"
        if r.random() < 0.4:
            head = "{%- set ns = namespace(count=0, text='', found=false) -%}\n"
            self.scope["ns"] = "ns"
        body = self.block(0, r.randint(2, 4))
        tail = "{{ ns.count }}|{{ ns.text }}|{{ ns.found }}" if "ns" in self.scope and r.random() < 0.7 else ""
        return head + body + tail


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "tests/Estuary.Tokenization.Tests/Data/chat_template_fuzz.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    env = environment()
    rng = random.Random(args.seed)
    cases = []
    while len(cases) < args.count:
        source = Gen(rng).template()
        try:
            env.parse(source)
        except jinja2.exceptions.TemplateSyntaxError:
            continue  # the generator's own mistakes (rare): only templates Jinja parses are compared
        case = render_case(env, f"seed{args.seed}-{len(cases)}", source, variables(rng))
        if case is not None:
            cases.append(case)
    args.out.write_text(json.dumps({"generator": "scripts/chat-template-fuzz.py", "jinja2": jinja2.__version__, "seed": args.seed,
                                    "cases": cases}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    failures = sum("failure" in c for c in cases)
    print(f"{len(cases)} cases ({failures} fail in Jinja2, {sum('error' in c for c in cases)} raise) → {args.out}")


if __name__ == "__main__":
    main()
