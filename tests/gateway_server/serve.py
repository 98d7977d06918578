"""Stand up the test gateway: migrate a fresh SQLite database in
GATEWAY_STATE_DIR, seed it, listen on 127.0.0.1 on a free port, and print one
JSON line (port, admin password, read token, organization ids) on stdout.

Runs until killed. Used only by appform's tests (tests/it/gateway_real.rs)."""
import json
import os
import secrets
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gw.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main():
    call_command("migrate", verbosity=0, interactive=False)
    from gw.seed import run

    facts = run(secrets.token_urlsafe(16))
    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=ThreadingServer, handler_class=QuietHandler)
    facts["port"] = server.server_port
    print(json.dumps(facts), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
