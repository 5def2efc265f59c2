"""Probe page: Streamlit's own st.write_stream."""

import os

import openai
import streamlit as st

client = openai.OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="k")
prompt = st.chat_input("Message")
if prompt:
    with st.chat_message("assistant"):
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": prompt}], stream=True
        )
        st.write_stream(c.choices[0].delta.content or "" for c in stream if c.choices)
