#!/usr/bin/env python3
"""Renders the chat-template golden fixtures for ChatTemplateGoldenTest with Python's jinja2,
configured as Hugging Face transformers renders chat templates (an ImmutableSandboxedEnvironment
with trim_blocks, lstrip_blocks and loop controls; raise_exception, tojson as
json.dumps(ensure_ascii=False), a fixed strftime_now, and a pass-through {% generation %} block).

  /usr/bin/python3 scripts/reference/render_chat_golden.py   (Debian python3-jinja2)

Reads src/test/resources/chat/templates/*.jinja and chat/conversations.json; writes
chat/golden.json: for every template, conversation and add_generation_prompt, the rendered text or
the message the template raised.
"""
import json
import pathlib
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2] / "src/test/resources/chat"
# The fixed clock the Java side is configured with (ChatTemplateGoldenTest).
NOW = datetime(2024, 7, 26, 9, 5, 0)
BOS, EOS = "<s>", "</s>"


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' override of jinja2's tojson (which would HTML-escape).
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class Generation(Extension):
    """{% generation %}...{% endgeneration %} renders its body (transformers marks the span)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def environment():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[Generation, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: NOW.strftime(fmt)
    return env


def main():
    env = environment()
    conversations = json.loads((ROOT / "conversations.json").read_text(encoding="utf-8"))
    cases = []
    for path in sorted((ROOT / "templates").glob("*.jinja")):
        template = env.from_string(path.read_text(encoding="utf-8"))
        for name, conversation in conversations.items():
            for agp in (False, True):
                variables = dict(conversation, bos_token=BOS, eos_token=EOS, add_generation_prompt=agp)
                case = {"template": path.name, "conversation": name, "add_generation_prompt": agp}
                try:
                    case["text"] = template.render(**variables)
                except TemplateRaised as e:
                    case["error"] = str(e)
                cases.append(case)
    out = ROOT / "golden.json"
    out.write_text(json.dumps({"jinja2": jinja2.__version__, "cases": cases}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(cases)} cases -> {out}")


if __name__ == "__main__":
    main()
