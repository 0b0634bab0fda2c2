#!/usr/bin/env python3
"""Writes a Claude Code-sized Messages request (about 64 KB: a long system prompt, 24 tools with
JSON schemas, 12 turns of tool use and results) to stdout, for bench/messages.sh. Only what every
provider can take (text, client tools), so the same body can be relayed or translated.
Usage: large_messages_body.py MODEL"""
import json
import sys

model = sys.argv[1] if len(sys.argv) > 1 else "claude-bench"
words = ("the gateway relays each request to the provider that serves its route and keeps "
         "every answer, stream and error in the shape its client speaks ").split()


def text(n, seed):
    return " ".join(words[(seed + i) % len(words)] for i in range(n))


tools = [{
    "name": f"tool_{i}",
    "description": text(60, i),
    "input_schema": {
        "type": "object",
        "properties": {f"arg_{j}": {"type": "string", "description": text(12, i + j)}
                       for j in range(6)},
        "required": ["arg_0"],
    },
} for i in range(24)]
messages = [{"role": "user", "content": text(80, 1)}]
for turn in range(12):
    call = f"toolu_{turn:04d}"
    messages.append({"role": "assistant", "content": [
        {"type": "text", "text": text(30, turn)},
        {"type": "tool_use", "id": call, "name": f"tool_{turn % 24}",
         "input": {"arg_0": text(20, turn), "arg_1": "x\ty\n\"quoted\" é"}}]})
    messages.append({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": call, "content": text(150, turn + 7)}]})
body = {"model": model, "max_tokens": 4096, "stream": False,
        "system": [{"type": "text", "text": text(1500, 3), "cache_control": {"type": "ephemeral"}}],
        "tools": tools, "messages": messages, "metadata": {"user_id": "bench-user-0001"}}
sys.stdout.write(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
