"""Probe page: what the original project did - repaint the whole text on every delta."""

import os

import openai
import streamlit as st

client = openai.OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="k")
prompt = st.chat_input("Message")
if prompt:
    with st.chat_message("assistant"):
        box = st.empty()
        text = ""
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": prompt}], stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
                box.markdown(text)
