"""Child process for the crash test: writes through the Recorder, then keeps writing.

argv: database URL. Prints `ready <user_id> <conversation_id> <question_id>`
once the question and the started answer are committed, then saves message
after message into a second conversation, printing `saved <id> <sha256>`
after each commit, until it is killed.
"""

from __future__ import annotations

import sys
import threading

from samples import png_bytes
from scripted import PROFILE, ScriptedBackend

from assistants_ui.core import events as ev
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import Repository, StorageRecorder, open_url


def main() -> None:
    repo = Repository(open_url(sys.argv[1]))
    user = repo.ensure_user(auth_provider="password", subject="alice")
    recorder = StorageRecorder(repo, user_id=user.id)
    never = threading.Event()
    backend = ScriptedBackend([ev.TextDelta("partial answer ")], block=never)
    session = ChatSession(PROFILE, backend, recorder=recorder)
    question = session.submit("keep this", [Attachment("chart.png", "image/png", png_bytes())])
    stream = session.reply()
    while stream.message.text != "partial answer ":  # the worker has sent the text
        stream.poll(1.0)
    print(f"ready {user.id} {session.conversation_id} {question.id}", flush=True)

    other = repo.create_conversation(user_id=user.id, profile_id="p", backend="chat")
    print(f"busy {other.id}", flush=True)
    n = 0
    while True:
        n += 1
        data = png_bytes(8 + n % 32, 8)
        msg = Message.user(f"message {n}", [Attachment(f"{n}.png", "image/png", data)])
        repo.save_message(user_id=user.id, conversation_id=other.id, message=msg)
        print(f"saved {msg.id} {msg.attachments[0].sha256}", flush=True)


if __name__ == "__main__":
    main()
