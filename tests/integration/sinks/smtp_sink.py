#!/usr/bin/python3
"""smtp_sink.py: a local SMTP receiver for the notify tests (Debian's
python3-aiosmtpd).

Usage: smtp_sink.py PORT OUT_FILE

Every message is recorded as one JSON line in OUT_FILE: envelope sender,
recipients, and the message text.
"""
import json
import signal
import sys
import threading

from aiosmtpd.controller import Controller

PORT, OUT = int(sys.argv[1]), sys.argv[2]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "data": envelope.content.decode("utf-8", "replace")}
        with open(OUT, "a") as f:
            f.write(json.dumps(record) + "\n")
        return "250 OK"


def main():
    controller = Controller(Handler(), hostname="127.0.0.1", port=PORT)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
