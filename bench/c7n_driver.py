"""Cloud Custodian's side of `make bench`, run in a fresh interpreter of the
Custodian venv, from a directory holding the policy's config.json (what
c7n's Lambda package deploys).

    python c7n_driver.py EVENT.json [EVENT.json ...]

T0_NS (wall-clock ns taken just before the interpreter was spawned) dates
the start. Does what c7n's Lambda entry point does on a cold start (import
c7n.handler, read config.json, init_config, load_resources), then calls
c7n.handler.dispatch_event for each event in turn (the first is the cold
invocation, the rest are warm ones in the same process). Prints one JSON
object: ready_ms (spawn to handler ready), first_ms (spawn to the first
event handled), loop_s (the events after the first) and peak RSS.
"""

import json
import os
import resource
import sys
import time

T0 = int(os.environ["T0_NS"])
from c7n import handler  # noqa: E402

with open("config.json") as f:
    handler.policy_data = json.load(f)
handler.policy_config = handler.init_config(handler.policy_data)
handler.load_resources(handler.StructureParser().get_resource_types(handler.policy_data))
handler.policy_config["output_dir"] = os.environ.get("C7N_OUTPUT_DIR", "/tmp/c7n-bench-out")
T_READY = time.time_ns()


class Context:
    function_name = "custodian-bench"
    aws_request_id = "00000000-0000-0000-0000-000000000001"


events = []
for path in sys.argv[1:]:
    with open(path) as f:
        events.append(json.load(f))

def peak_rss_kb():
    """This process's own peak RSS (VmHWM is reset by exec; ru_maxrss is not)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


handler.dispatch_event(events[0], Context())
T_FIRST = time.time_ns()
rss_first = peak_rss_kb()
loop0 = time.perf_counter()
for event in events[1:]:
    handler.dispatch_event(event, Context())
loop_s = time.perf_counter() - loop0

print(
    json.dumps(
        {
            "ready_ms": (T_READY - T0) / 1e6,
            "first_ms": (T_FIRST - T0) / 1e6,
            "loop_s": loop_s,
            "loop_events": len(events) - 1,
            "first_at": T_FIRST / 1e9,
            "maxrss_kb_first": rss_first,
            "maxrss_kb": peak_rss_kb(),
        }
    )
)
