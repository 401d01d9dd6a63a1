"""Jinja2 set up as Hugging Face's apply_chat_template sets it up (trim_blocks, lstrip_blocks, loopcontrols, its
tojson and raise_exception), for the reference scripts beside this file and in ../jinja-differential."""
import json
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols
from jinja2.exceptions import TemplateError


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment(now=None):
    """The environment; with a datetime, strftime_now formats that moment."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    if now is not None:
        env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
    return env
