"""Documents people ask about: text out of files, cut into passages, ranked.

Pure Python over document libraries (pypdf, python-docx, python-pptx,
openpyxl): no storage, no protocol. `extract` turns a file's bytes into
sections (page and heading), `chunks` cuts them into passages, `rank` fuses
ranked lists and searches vectors. Storage keeps the passages
(`storage/documents.py`), the chat backend puts them in the prompt. See
docs/documents.md.
"""
