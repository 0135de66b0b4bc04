"""gunicorn settings for the dashboard (Procfile: `gunicorn --config gunicorn.conf.py ...`)."""
import gc
import multiprocessing
import os
import threading
import time

from dotenv import load_dotenv

from pisa.config import load_settings

load_dotenv()

# PORT is what platforms that read a Procfile hand out; PISA_PORT is ours (README, Configuration).
bind = f"0.0.0.0:{os.environ.get('PORT') or os.environ.get('PISA_PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
# gevent: every open /api/v1/stream is a greenlet, not a thread, so thousands cost little; the
# contract endpoints answer from each worker's snapshot cache between them (README, "Push").
worker_class = "gevent"
worker_connections = 5000       # open streams and polls per worker
threads = load_settings().web_threads     # gthread only (`-k gthread`); the pool has as many connections
# The longest request line and header gunicorn takes (its maximum): beyond them it answers
# 414/431 itself, in plain text, before the app sees the request (README, "API").
limit_request_line = 8190
limit_request_field_size = 8190
keepalive = 5                # pollers reuse their connection every second
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("PISA_ACCESS_LOG")   # unset: no access log (1,000 pollers = 5,000 lines/s)
errorlog = "-"
control_socket_disable = True   # one per user by default: two stacks (or the benchmark) would clash
loglevel = "info"


def post_fork(server, worker):
    """Under gevent, psycopg2 waits for the database by yielding to the other greenlets."""
    if worker.__class__.__name__.startswith("Gevent"):
        from psycogreen.gevent import patch_psycopg
        patch_psycopg()


def post_worker_init(worker):
    """The app, loaded, lives as long as the worker: its objects are moved out of the garbage
    collector's sight (a full collection walked them for 20 to 90 ms here, and no request was
    answered meanwhile). And when the worker is told to stop, its streams end at once, not after
    graceful_timeout: the browsers reconnect to a worker that runs and resume where they were."""
    gc.collect()
    gc.freeze()
    from dashboard.push import close_streams

    def end_streams_on_stop():
        while worker.alive:
            time.sleep(0.2)
        close_streams()
    threading.Thread(target=end_streams_on_stop, name="pisa-stream-closer", daemon=True).start()


def worker_int(worker):
    """Ctrl-C or SIGQUIT: end the streams before the worker exits."""
    from dashboard.push import close_streams
    close_streams()
