"""Probe page: one placeholder, repainted with the whole text at most every 50 ms."""

import os
import time

import openai
import streamlit as st

client = openai.OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="k")
prompt = st.chat_input("Message")
if prompt:
    with st.chat_message("assistant"):
        box = st.empty()
        text = ""
        last = 0.0
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": prompt}], stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
                if time.monotonic() - last >= 0.05:
                    box.markdown(text)
                    last = time.monotonic()
        box.markdown(text)
