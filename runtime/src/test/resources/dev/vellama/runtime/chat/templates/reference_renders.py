"""Renders every template here but Gemma 4's (which has its own reference and test) for TemplateRenderDifferentialTest
with Jinja2 as Hugging Face's apply_chat_template sets it up: python3 reference_renders.py > reference-renders.jsonl
(jinja2 3.1.6); with a directory argument, the templates there (llama-cpp/ and its README). Messages are the dicts ChatMessage gives templates; strftime_now sees 2026-12-07 12:00."""
import datetime, glob, json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_jinja import environment

env = environment(datetime.datetime(2026, 12, 7, 12, 0, 0))
here = os.path.dirname(os.path.abspath(__file__))
where = sys.argv[1] if len(sys.argv) > 1 else here

def msg(role, content, **more):
    m = {"role": role, "content": content}
    m.update(more)
    return m
def call(id, name, args): return {"id": id, "type": "function", "function": {"name": name, "arguments": args}}

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather now and ahead",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["c", "f"]}, "days": {"type": "integer"}}, "required": ["city"]}}}
CLOCK = {"type": "function", "function": {"name": "clock", "description": "The time", "parameters": {"type": "object", "properties": {}}}}
TRIP = {"type": "function", "function": {"name": "plan_trip", "description": "Plans a trip: \"stops\" & <dates>",
    "parameters": {"type": "object", "properties": {
        "stops": {"type": "array", "description": "Stops on the way", "items": {"type": "object",
            "properties": {"name": {"type": "string"}, "hours": {"type": "number"}}, "required": ["name"]}},
        "budget": {"type": ["number", "null"], "minimum": 0},
        "options": {"type": "object", "properties": {"metric": {"type": "boolean", "default": True}}}},
        "required": ["stops"]}}}
SYS, HI, HELLO, BYE = msg("system", "You are terse."), msg("user", "Hi"), msg("assistant", "Hello."), msg("user", "Bye")
CALL = msg("assistant", "", tool_calls=[call("call_1", "get_weather", {"city": "Paris", "unit": "c", "days": 3})])
RESULT = msg("tool", '{"temp": 21}', tool_call_id="call_1")
ASK = msg("user", "Weather in Paris?")

CASES = [
    ("plain", [HI], {}),
    ("system", [SYS, HI], {}),
    ("multiTurn", [SYS, HI, HELLO, BYE], {}),
    ("noSystemMultiTurn", [HI, HELLO, BYE], {}),
    ("noGenerationPrompt", [SYS, HI, HELLO, BYE], {"add_generation_prompt": False}),
    ("continuation", [HI, msg("assistant", "Once upon")], {"add_generation_prompt": False}),
    ("whitespace", [msg("user", "  Hi \n\n")], {}),
    ("unicodeAndQuotes", [msg("user", "Grüße 👋 «q» \"dq\" 'sq' \\ back {{ braces }} {% tag %}")], {}),
    ("emptyUser", [msg("user", "")], {}),
    ("tools", [SYS, msg("user", "Weather?")], {"tools": [WEATHER, CLOCK]}),
    ("toolsNoSystem", [msg("user", "Weather?")], {"tools": [WEATHER]}),
    ("toolCallAndResult", [ASK, CALL, RESULT], {"tools": [WEATHER]}),
    ("toolCallResultAnswer", [ASK, CALL, RESULT, msg("assistant", "It is 21."), msg("user", "Thanks")], {"tools": [WEATHER]}),
    ("thinkingOn", [SYS, HI], {"enable_thinking": True}),
    ("thinkingOff", [SYS, HI], {"enable_thinking": False}),
    ("twoCallsTwoResults", [ASK, msg("assistant", "", tool_calls=[call("call_1", "get_weather", {"city": "Paris"}),
        call("call_2", "clock", {})]), msg("tool", '{"temp": 21}', tool_call_id="call_1"),
        msg("tool", "12:00", tool_call_id="call_2")], {"tools": [WEATHER, CLOCK]}),
    ("thinkInHistory", [HI, msg("assistant", "<think>\nThe user greets.\n</think>\n\nHello."), BYE], {}),
    ("nestedToolSchema", [msg("user", "Plan a trip.")], {"tools": [TRIP]}),
    ("threeUserTurns", [SYS, HI, HELLO, msg("user", "How are you?"), msg("assistant", "Fine."), BYE], {}),
    ("multilineUser", [msg("user", "Line one.\n  Line two, indented.\n\n\tTabbed line.  ")], {}),
]

out = []
for path in sorted(glob.glob(os.path.join(where, "*.jinja"))):
    name = os.path.basename(path)[:-len(".jinja")]
    if name.startswith("gemma4") or "gemma-4" in name:
        continue
    with open(path, encoding="utf-8") as f:
        t = env.from_string(f.read())
    for case, messages, extra in CASES:
        variables = dict(messages=messages, add_generation_prompt=True, bos_token="<s>", eos_token="</s>",
                         tools=None, documents=None)
        variables.update(extra)
        try:
            text, error = t.render(**variables), None
        except Exception as e:  # a template's raise_exception, or a failure of its own
            text, error = None, type(e).__name__ + ": " + str(e)
        out.append({"template": name, "case": case, "messages": messages,
                    "variables": {k: v for k, v in extra.items()}, "text": text, "error": error})
for o in out:
    print(json.dumps(o, ensure_ascii=False))
