"""Chainlit's streaming example (its docs, "Streaming": `@cl.on_message` streams the SDK's
answer with `msg.stream_token`, then `msg.update()`), on the fake server: the third app of
bench/load.py. As the docs write it but for the client's address and the model's name.
Run by `chainlit run` from the venv `scripts/ensure-bench-peers` makes, never the app's."""

import os

import chainlit as cl
from openai import AsyncOpenAI

client = AsyncOpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="k", max_retries=0)

settings = {
    "model": "m",
    "temperature": 0.7,
    "max_tokens": 500,
    "top_p": 1,
    "frequency_penalty": 0,
    "presence_penalty": 0,
}


@cl.on_chat_start
def start_chat() -> None:
    cl.user_session.set(
        "message_history",
        [{"role": "system", "content": "You are a helpful assistant."}],
    )


@cl.on_message
async def main(message: cl.Message) -> None:
    message_history = cl.user_session.get("message_history")
    message_history.append({"role": "user", "content": message.content})

    msg = cl.Message(content="")

    stream = await client.chat.completions.create(messages=message_history, stream=True, **settings)

    async for part in stream:
        if token := part.choices[0].delta.content or "":
            await msg.stream_token(token)

    message_history.append({"role": "assistant", "content": msg.content})
    await msg.update()
