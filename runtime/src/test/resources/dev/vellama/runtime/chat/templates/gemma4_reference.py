"""Renders the Gemma 4 chat templates with Jinja2 as Hugging Face's apply_chat_template sets it up, for
Gemma4TemplateTest: python3 gemma4_reference.py (jinja2 3.1.6). Messages are the dicts ChatMessage gives templates."""
import json, sys, os
from hf_jinja import environment

env = environment()
here = os.path.dirname(os.path.abspath(__file__))

def render(name, messages, add_generation_prompt=True, **extra):
    with open(os.path.join(here, name + ".jinja"), encoding="utf-8") as f:
        t = env.from_string(f.read())
    variables = dict(messages=messages, add_generation_prompt=add_generation_prompt, bos_token="<bos>",
                     eos_token="<eos>", tools=None, documents=None)
    variables.update(extra)
    return t.render(**variables)

def user(c): return {"role": "user", "content": c}
def system(c): return {"role": "system", "content": c}
def assistant(c): return {"role": "assistant", "content": c}
def call(id, name, args): return {"id": id, "type": "function", "function": {"name": name, "arguments": args}}
def calls(content, *cs): return {"role": "assistant", "content": content, "tool_calls": list(cs)}
def result(id, c): return {"role": "tool", "content": c, "tool_call_id": id}

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather now and ahead",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["c", "f"], "description": "Unit"},
        "days": {"type": "integer", "description": "Days ahead", "nullable": True},
        "tags": {"type": "array", "items": {"type": "string"}},
        "stops": {"type": "array", "description": "Stops on the way", "items": {"type": "object",
            "properties": {"name": {"type": "string"}, "hours": {"type": "number"}}, "required": ["name"]}},
        "options": {"type": "object", "properties": {"metric": {"type": "boolean"}}, "required": ["metric"]}},
        "required": ["city", "unit"]}}}
CLOCK = {"type": "function", "function": {"name": "clock", "parameters": {"type": "object"}}}

CASES = {
    "plain": ("gemma4", [user("Hi")], {}),
    "plainNoPrompt": ("gemma4", [user("  Hi  ")], {"add_generation_prompt": False}),
    "system": ("gemma4", [system("You are terse. "), user("Hi")], {}),
    "multiTurn": ("gemma4", [system("You are terse."), user("Hi"),
                  assistant("<|channel>thought\nhmm<channel|>Hello."), user("Bye")], {}),
    "thinking": ("gemma4", [system("You are terse."), user("Hi")], {"enable_thinking": True}),
    "thinkingOff": ("gemma4", [user("Hi")], {"enable_thinking": False}),
    "tools": ("gemma4", [system("You are terse."), user("Weather?")], {"tools": [WEATHER, CLOCK]}),
    "toolsThinking": ("gemma4", [user("Weather?")], {"tools": [CLOCK], "enable_thinking": True}),
    "toolCallAndResult": ("gemma4", [user("Weather in Paris?"),
        calls("", call("call_1", "get_weather", {"city": "Paris", "unit": "c", "days": 3, "tags": ["a", "b"],
                                                   "options": {"metric": True}, "x": None, "f": 1.5})),
        result("call_1", '{"temp": 21}')], {"tools": [WEATHER]}),
    "toolCallResultAnswer": ("gemma4", [user("Weather in Paris?"),
        calls("", call("call_1", "get_weather", {"city": "Paris"}), call("call_2", "clock", {})),
        result("call_1", "sunny"), result("call_2", "noon"), assistant("Sunny at noon."), user("Thanks")],
        {"tools": [WEATHER, CLOCK]}),
    "toolCallPending": ("gemma4", [user("Weather in Paris?"),
        calls("", call("call_1", "get_weather", {"city": "Paris"}))], {"tools": [WEATHER]}),
    "interleavedTools": ("gemma4-interleaved", [system("You are terse."), user("Weather?")], {"tools": [WEATHER, CLOCK]}),
    "interleavedToolResponses": ("gemma4-interleaved", [user("Weather in Paris?"),
        {"role": "assistant", "tool_calls": [call("call_1", "get_weather", {"city": "Paris"})],
         "tool_responses": [{"name": "get_weather", "response": {"temp": 21, "sky": "clear"}}],
         "content": "Clear, 21."}, user("Thanks")], {"tools": [WEATHER]}),
    "contentAndCall": ("gemma4", [user("Weather in Paris?"),
        calls("Let me check.", call("call_1", "get_weather", {"city": "Paris"})), result("call_1", "sunny")],
        {"tools": [WEATHER]}),
    # the older template as llama.cpp hands it tool results: merged into the assistant turn as tool_responses
    "interleavedPending": ("gemma4-interleaved", [user("Weather in Paris?"),
        {"role": "assistant", "tool_calls": [call("call_1", "get_weather", {"city": "Paris"})],
         "tool_responses": [{"name": "get_weather", "response": "sunny"}, {"name": "call_2", "response": 42}]}],
        {"tools": [WEATHER]}),
}

def java(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

if __name__ == "__main__":
    for name, (tmpl, messages, extra) in CASES.items():
        extra = dict(extra)
        gen = extra.pop("add_generation_prompt", True)
        print(name + ": " + java(render(tmpl, messages, gen, **extra)))
