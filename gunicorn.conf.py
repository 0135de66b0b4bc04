"""gunicorn settings for the dashboard (Procfile: `gunicorn --config gunicorn.conf.py ...`)."""
import multiprocessing
import os

from dotenv import load_dotenv

from pisa.config import load_settings

load_dotenv()

# PORT is what platforms that read a Procfile hand out; PISA_PORT is ours (README, Configuration).
bind = f"0.0.0.0:{os.environ.get('PORT') or os.environ.get('PISA_PORT', '8000')}"
# Each worker keeps its own short snapshot cache and pool; threads overlap the rare DB reads.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = load_settings().web_threads     # the app pools as many central connections
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
