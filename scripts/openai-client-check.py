"""Drives `voxclone serve` with the official OpenAI Python client, unchanged, as a user would.

Usage: python3 scripts/openai-client-check.py http://127.0.0.1:8000 OUT_DIR
Writes OUT_DIR/{whole,streamed}.wav and prints one JSON line of what it saw. The Rust test
`crates/cli/tests/openai_client.rs` runs it with the client pinned in a virtual environment.
"""
import json
import pathlib
import sys

import openai
from openai import OpenAI

base, out = sys.argv[1], pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
# The server has no keys; the client insists on one.
client = OpenAI(base_url=base + "/v1", api_key="not-needed")

seen = {"client": openai.__version__}
seen["models"] = sorted(m.id for m in client.models.list())

# The documented call, with an OpenAI voice name.
speech = client.audio.speech.create(
    model="tts-1", voice="alloy", input="Hello from an unmodified OpenAI client.", response_format="wav"
)
(out / "whole.wav").write_bytes(speech.content)
seen["whole_bytes"] = len(speech.content)

# Streaming, as the client documents it, for a longer text.
text = " ".join(f"This is sentence number {i} of a longer passage." for i in range(1, 13))
with client.audio.speech.with_streaming_response.create(
    model="tts-1", voice="onyx", input=text, response_format="wav", speed=1.1
) as response:
    pieces = [len(piece) for piece in response.iter_bytes()]
    response_headers = dict(response.headers)
seen["streamed_pieces"] = len(pieces)
seen["streamed_bytes"] = sum(pieces)
seen["transfer_encoding"] = response_headers.get("transfer-encoding")

# Errors surface as the client's own exceptions, with the server's message.
try:
    client.audio.speech.create(model="tts-1", voice="nobody", input="Hi.", response_format="wav")
    seen["bad_voice"] = None
except openai.BadRequestError as e:
    seen["bad_voice"] = e.message

print(json.dumps(seen))
