"""`make bench`: Safeguard and Cloud Custodian side by side, on this machine,
against one emulator (moto server), with the same events, in one run.

Measured (each figure min / median / max over RUNS runs; ratios per pair of runs):
  cold      a fresh process handling one PutBucketAcl event end to end.
            Safeguard: the release `access-control` binary served by a local
            Lambda Runtime API (this file), from spawn to the response posted
            (bucket fixed, alert published). Custodian: a fresh python that
            imports c7n, loads a cloudtrail-mode policy doing the same fix and
            calls c7n.handler.dispatch_event (bench/c7n_driver.py).
  rss       peak RSS of each process: its VmHWM (ru_maxrss would count the
            forking Python's pages, which exec does not reset).
  calls     AWS API requests per event, named and counted by a proxy in front
            of the emulator, for a public bucket ACL, an open security group
            and an unencrypted unattached volume. Both sides fix and publish
            one alert to the same SNS topic (Custodian: notify, SNS transport).
  size      each function's release zip (arm64, x86_64) and Custodian's
            Lambda package (c7n and its dependencies beyond the runtime's boto3).
  throughput  N distinct events through one warm process; a counting proxy in
            front of the emulator times each request, so the report separates
            the emulator's own time from the handler's.

Writes target/bench/report.json and report.md and prints the table.
"""

import argparse
import http.client
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import zipfile
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = ROOT / "target" / "bench"
VENV = ROOT / ".venv"
C7N_VENV = VENV / "c7n"
ACCOUNT = "123456789012"
REGION = "us-east-1"
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
         "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"}
TARGETS = {"cold_ratio": 1 / 20, "rss_mb": 25.0, "zip_mb": 5.0, "calls_ratio": 0.5}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def fmt(s, unit="", digits=1):
    if not s:
        return "n/a"
    return f"{s['min']:.{digits}f} / {s['median']:.{digits}f} / {s['max']:.{digits}f}{unit}"


# --- the emulator --------------------------------------------------------------------------

class Emulator:
    """moto server on loopback (its log: target/bench/moto.log)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / "moto.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                self.reset()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("bench: the emulator did not start")

    def reset(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("POST", "/moto-api/reset")
        conn.getresponse().read()
        conn.close()

    def fresh(self):
        """An empty emulator holding only the alert topic, with an SQS queue
        subscribed to it so that each side's alerts can be checked (SNS to SQS
        delivery happens inside the emulator: no request is logged for it)."""
        self.reset()
        sns, sqs = self.client("sns"), self.client("sqs")
        topic = sns.create_topic(Name="safeguard-alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="bench-alerts")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return Alerts(topic, sqs, queue)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()

    def client(self, service):
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing")


class Alerts:
    """The alert topic both sides publish to, and what reached it."""

    def __init__(self, topic, sqs, queue):
        self.topic, self.sqs, self.queue = topic, sqs, queue

    def received(self):
        """Messages delivered since the last call (drains the queue)."""
        n = 0
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages", [])
            if not messages:
                return n
            n += len(messages)
            self.sqs.delete_message_batch(QueueUrl=self.queue, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


class QuietServer(http.server.ThreadingHTTPServer):
    """A killed function drops its connection mid-poll: expected, not an error.
    Replies go out at once (TCP_NODELAY): Python writes a reply's head and
    body separately, and Nagle plus delayed ACKs would add ~40-200 ms to
    each keep-alive exchange, which is the harness's cost, not the handler's."""
    daemon_threads = True

    def get_request(self):
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


# --- a local Lambda Runtime API -----------------------------------------------------------

class RuntimeApi:
    """The Runtime API a Lambda function's runtime loop polls: hands out the
    queued events and records each response with the time it arrived."""

    def __init__(self):
        self.events = queue.Queue()
        self.responses = queue.Queue()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self.reply(404, b"{}")
                event = api.events.get()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4()))
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 900_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:safeguard-access-control")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                at = time.time()
                kind = "response" if self.path.endswith("/response") else "error"
                api.responses.put((kind, at, body))
                self.reply(202, b"{}")

            def reply(self, code, body):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


S3_SUBRESOURCES = {"acl": "BucketAcl", "tagging": "BucketTagging", "policy": "BucketPolicy",
                   "publicAccessBlock": "PublicAccessBlock", "encryption": "BucketEncryption",
                   "location": "BucketLocation", "versioning": "BucketVersioning", "logging": "BucketLogging",
                   "website": "BucketWebsite", "replication": "BucketReplication", "lifecycle": "BucketLifecycle",
                   "notification": "BucketNotificationConfiguration", "ownershipControls": "BucketOwnershipControls",
                   "cors": "BucketCors", "accelerate": "BucketAccelerateConfiguration",
                   "requestPayment": "BucketRequestPayment", "object-lock": "ObjectLockConfiguration"}


def operation(method, path, headers, body):
    """The API operation a request calls: the X-Amz-Target or Action= of
    JSON and query protocols, else S3's REST shape (method and subresource)."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    form = urllib.parse.parse_qs(body.decode(errors="replace")) if body else {}
    if "Action" in form:
        return form["Action"][0]
    route, _, query = path.partition("?")
    keys = [k.split("=")[0] for k in query.split("&") if k]
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}.get(method, method)
    for key in keys:
        if key in S3_SUBRESOURCES:
            return verb + S3_SUBRESOURCES[key]
    if route.strip("/") == "":
        return "ListBuckets" if method == "GET" else f"{method} /"
    return f"{verb}Bucket" if route.strip("/").count("/") == 0 else f"{verb}Object"


def safeguard_env(endpoint, topic, runtime_api):
    env = {"PATH": os.environ.get("PATH", ""), **CREDS, "AWS_ENDPOINT_URL": endpoint,
           "AWS_LAMBDA_RUNTIME_API": runtime_api, "AWS_LAMBDA_FUNCTION_NAME": "safeguard-access-control",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/safeguard-access-control",
           "AWS_LAMBDA_LOG_LEVEL": "warn", "MODE": "remediate", "SNS_TOPIC_ARN": topic}
    return env


def run_safeguard(binary, events, endpoint, topic, log):
    """Spawn the function, serve `events`; return the time (time.time()) of
    spawn and of each response, the responses, and peak RSS in KB."""
    api = RuntimeApi()
    for e in events:
        api.events.put(e)
    t0 = time.time()
    proc = subprocess.Popen([str(binary)], env=safeguard_env(endpoint, topic, api.address),
                            stdout=log, stderr=log)
    times, bodies = [], []
    try:
        for _ in events:
            kind, at, body = api.responses.get(timeout=300)
            times.append(at)
            bodies.append((kind, body))
        rss = peak_rss_kb(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        api.close()
    return t0, times, bodies, rss


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def run_custodian(policy, events, endpoint, topic, workdir, log):
    """A fresh interpreter of the Custodian venv handling `events` in turn;
    the policy's notify action publishes to `topic`, as Safeguard's alerts do."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(policy.read_text().replace("${ALERT_TOPIC}", topic))
    paths = []
    for i, e in enumerate(events):
        p = workdir / f"event-{i}.json"
        p.write_text(json.dumps(e))
        paths.append(str(p))
    env = {"PATH": os.environ.get("PATH", ""), **CREDS, "AWS_ENDPOINT_URL": endpoint, "C7N_CATCH_ERR": "no",
           "C7N_OUTPUT_DIR": str(workdir / "out"), "T0_NS": str(time.time_ns())}
    proc = subprocess.Popen([str(C7N_VENV / "bin" / "python"), str(BENCH / "c7n_driver.py"), *paths],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=log)
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise RuntimeError(f"custodian driver failed (status {proc.returncode}); see {log.name}")
    return json.loads(out)


# --- scenarios: state and the event that reports it --------------------------------------

def sample(path):
    return json.loads((ROOT / "events" / path).read_text())


def bucket_event(s3, name):
    s3.create_bucket(Bucket=name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    e = sample("access-control/put-bucket-acl-all-users.json")
    e["id"] = str(uuid.uuid4())
    e["detail"]["eventID"] = str(uuid.uuid4())
    e["detail"]["requestParameters"]["bucketName"] = name
    e["detail"]["requestParameters"]["Host"] = f"{name}.s3.amazonaws.com"
    return e


def bucket_fixed(s3, name):
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    return not any("global/AllUsers" in (g["Grantee"].get("URI") or "") or
                   "global/AuthenticatedUsers" in (g["Grantee"].get("URI") or "") for g in grants)


def sg_event(ec2, name):
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName=name, Description="bench", VpcId=vpc)["GroupId"]
    rules = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    e = sample("network/authorize-sg-ingress-ssh-world.json")
    e["detail"]["requestParameters"]["groupId"] = group
    for item in e["detail"]["responseElements"]["securityGroupRuleSet"]["items"]:
        item["groupId"] = group
        item["securityGroupRuleId"] = rules["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    return e, group


def sg_fixed(ec2, group):
    perms = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    return not any(r.get("CidrIp") == "0.0.0.0/0" for p in perms for r in p.get("IpRanges", []))


def volume_event(ec2):
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, VolumeType="gp3", Encrypted=False)["VolumeId"]
    e = sample("encryption/create-volume-unencrypted.json")
    e["detail"]["responseElements"]["volumeId"] = vol
    return e, vol


# --- measurements --------------------------------------------------------------------------

def ensure_release(name):
    binary = ROOT / "target" / "release" / name
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", name], cwd=ROOT, check=True)
    return binary


def ensure_c7n():
    if not (C7N_VENV / "bin" / "custodian").exists():
        subprocess.run([sys.executable, "-m", "venv", str(C7N_VENV)], check=True)
        subprocess.run([str(C7N_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(BENCH / "requirements-c7n.txt")], check=True)


def outcome_statuses(body):
    try:
        return [o.get("status") for o in json.loads(body)]
    except (ValueError, AttributeError):
        return ["unreadable"]


def cold(emu, binaries, runs, log):
    s3 = emu.client("s3")
    rows = []
    for i in range(runs):
        # Safeguard
        alerts = emu.fresh()
        name = f"bench-cold-{i}"
        event = bucket_event(s3, name)
        t0, times, bodies, rss = run_safeguard(binaries["access-control"], [event], emu.url, alerts.topic, log)
        statuses = outcome_statuses(bodies[0][1])
        sg = {"ms": (times[0] - t0) * 1000, "rss_kb": rss,
              "ok": bodies[0][0] == "response" and "remediated" in statuses and bucket_fixed(s3, name)
              and alerts.received() == 1}
        # Custodian
        alerts = emu.fresh()
        name = f"bench-cold-c7n-{i}"
        event = bucket_event(s3, name)
        c = run_custodian(BENCH / "c7n" / "bucket-acl.json", [event], emu.url, alerts.topic, OUT / "c7n-cold", log)
        cu = {"ms": c["first_ms"], "rss_kb": c["maxrss_kb_first"],
              "ok": bucket_fixed(s3, name) and alerts.received() == 1}
        rows.append({"safeguard": sg, "custodian": cu, "ratio": sg["ms"] / cu["ms"]})
        print(f"  cold run {i + 1}/{runs}: safeguard {sg['ms']:.1f} ms ({sg['rss_kb'] / 1024:.1f} MiB, "
              f"ok={sg['ok']}); custodian {cu['ms']:.1f} ms ({cu['rss_kb'] / 1024:.1f} MiB, ok={cu['ok']})", flush=True)
    return rows


def calls_per_event(emu, binaries, log):
    """One warm process per side handles a first event (not counted: it makes
    start-up calls such as Custodian's sts:GetCallerIdentity), then the counted
    one, through a proxy that names each operation requested."""
    s3, ec2 = emu.client("s3"), emu.client("ec2")
    result = {}

    def counted(function, make_events, check):
        alerts = emu.fresh()
        warmup, (event, ident) = make_events()
        api = RuntimeApi()
        proxy = TimingProxy(emu.port)
        proc = subprocess.Popen([str(binaries[function])], env=safeguard_env(proxy.url, alerts.topic, api.address),
                                stdout=log, stderr=log)
        try:
            api.events.put(warmup)
            api.responses.get(timeout=120)
            alerts.received()
            mark = time.time()
            api.events.put(event)
            kind, _, body = api.responses.get(timeout=300)
            ops = proxy.ops_after(mark)
        finally:
            proc.kill()
            proc.wait()
            api.close()
            proxy.close()
        statuses = outcome_statuses(body)
        ok = kind == "response" and check(ident) and "remediated" in statuses and "failed" not in statuses
        return {"calls": len(ops), "ops": ops, "ok": ok and alerts.received() >= 1}

    def two(make):
        return lambda: (make(0)[0], make(1))

    # bucket
    def bucket(i):
        name = f"bench-calls-{i}"
        return bucket_event(s3, name), name
    sg = counted("access-control", two(bucket), lambda n: bucket_fixed(s3, n))
    cu = custodian_calls(emu, "bucket-acl.json", two(bucket), lambda n: bucket_fixed(s3, n), log)
    result["public bucket ACL (PutBucketAcl)"] = {"safeguard": sg, "custodian": cu}

    def group(i):
        return sg_event(ec2, f"bench-sg-{i}")
    sg = counted("network", two(group), lambda g: sg_fixed(ec2, g))
    cu = custodian_calls(emu, "sg-ingress.json", two(group), lambda g: sg_fixed(ec2, g), log)
    result["open security group (AuthorizeSecurityGroupIngress 22 from 0.0.0.0/0)"] = {"safeguard": sg, "custodian": cu}

    def volume(i):
        return volume_event(ec2)

    def encrypted(vol_id):
        vols = ec2.describe_volumes()["Volumes"]
        return all(v["Encrypted"] for v in vols if v["State"] != "deleted") and not any(
            v["VolumeId"] == vol_id for v in vols)
    sg = counted("encryption", two(volume), encrypted)
    result["unencrypted unattached volume (CreateVolume)"] = {
        "safeguard": sg,
        "custodian": None,
        "note": "Custodian has no action that encrypts an unattached volume in place (encrypt-instance-volumes needs an instance)"}
    return result


def custodian_calls(emu, policy, make_events, check, log):
    """Custodian handles a warm-up event, then the counted one, in one process;
    the counted calls are those requested after the first event returned."""
    alerts = emu.fresh()
    warmup, (event, ident) = make_events()
    proxy = TimingProxy(emu.port)
    try:
        r = run_custodian(BENCH / "c7n" / policy, [warmup, event], proxy.url, alerts.topic, OUT / "c7n-calls", log)
        ops = proxy.ops_after(r["first_at"])
    finally:
        proxy.close()
    return {"calls": len(ops), "ops": ops, "ok": check(ident) and alerts.received() == 2}


def throughput(emu, binaries, n, c7n_n, log):
    s3 = emu.client("s3")
    result = {}
    for side, count in (("safeguard", n), ("custodian", c7n_n)):
        if count <= 0:
            continue
        alerts = emu.fresh()
        topic = alerts.topic
        names = [f"bench-tp-{i}" for i in range(count + 1)]
        events = [bucket_event(s3, name) for name in names]
        proxy = TimingProxy(emu.port)
        try:
            if side == "safeguard":
                _, times, bodies, rss = run_safeguard(binaries["access-control"], events, proxy.url, topic, log)
                # The first event is the cold one: count from its response to the last.
                wall = times[-1] - times[0]
                ok = sum(1 for k, b in bodies[1:] if k == "response" and outcome_statuses(b) == ["remediated"])
                proxy_counts = proxy.after(times[0])
            else:
                r = run_custodian(BENCH / "c7n" / "bucket-acl.json", events, proxy.url, topic, OUT / "c7n-tp", log)
                wall = r["loop_s"]
                ok = sum(1 for name in names[1:] if bucket_fixed(s3, name))
                rss = r["maxrss_kb"]
                proxy_counts = proxy.after(r["first_at"])
        finally:
            proxy.close()
        emulator_s, requests = proxy_counts
        result[side] = {"events": count, "wall_s": wall, "events_per_s": count / wall, "fixed": ok,
                        "alerts": alerts.received(),
                        "requests": requests, "emulator_s": emulator_s,
                        "own_ms_per_event": (wall - emulator_s) / count * 1000, "rss_kb": rss}
        print(f"  throughput {side}: {count} events in {wall:.2f} s = {count / wall:.1f}/s; emulator "
              f"{emulator_s:.2f} s; own {(wall - emulator_s) / count * 1000:.2f} ms/event; fixed {ok}/{count}", flush=True)
    return result


class TimingProxy:
    """HTTP/1.1 proxy in front of the emulator that times each upstream
    request: the emulator's own cost, separated from the handler's."""

    def __init__(self, upstream_port):
        self.records = []  # (time at start, seconds upstream, operation name)
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def relay(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
                headers["Content-Length"] = str(len(body))
                if not hasattr(self.server_thread_conn, "conn"):
                    upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                    upstream.connect()
                    upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.server_thread_conn.conn = upstream
                conn = self.server_thread_conn.conn
                t0 = time.time()
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                spent = time.time() - t0
                with proxy.lock:
                    proxy.records.append((t0, spent, operation(self.command, self.path, self.headers, body)))
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "content-length", "connection", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            server_thread_conn = threading.local()
            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def after(self, start):
        """Seconds the emulator spent on requests that began at or after
        `start` (time.time()), and how many there were."""
        with self.lock:
            recs = [spent for t, spent, _ in self.records if t >= start]
        return sum(recs), len(recs)

    def ops_after(self, start):
        """The operations requested at or after `start`, in order."""
        with self.lock:
            return [op for t, _, op in self.records if t >= start]

    def close(self):
        self.server.shutdown()


def function_zips(binaries):
    """Release zips made by `make bench-zips` (cargo lambda, arm64 and x86_64),
    kept under target/bench/zips/<arch>/. Functions without one there are
    zipped from this run's host release build (x86_64, same profile), as
    `bootstrap`, the way cargo lambda packages them."""
    found = {}
    base = OUT / "zips"
    for arch_dir in sorted(base.glob("*")) if base.exists() else []:
        for z in sorted(arch_dir.glob("*.zip")):
            found.setdefault(z.stem, {})[arch_dir.name] = z.stat().st_size
    host = OUT / "zips-host"
    host.mkdir(parents=True, exist_ok=True)
    for name, binary in binaries.items():
        if "x86_64" in found.get(name, {}):
            continue
        z = host / f"{name}.zip"
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as archive:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, binary.read_bytes())
        found.setdefault(name, {})["x86_64 (host build)"] = z.stat().st_size
    return found


def custodian_package():
    """c7n and what it needs beyond the Lambda Python runtime (boto3 and its
    dependencies), zipped as c7n's own packager would ship it."""
    target = OUT / "c7n-package"
    zipped = OUT / "c7n-package.zip"
    if not zipped.exists():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run([str(C7N_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                        "--target", str(target), "-r", str(BENCH / "requirements-c7n.txt")], check=True)
        runtime = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "python_dateutil", "six")
        for p in target.iterdir():
            if p.name.split("-")[0].lower() in runtime or p.name.lower().startswith(runtime):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(target.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts:
                    z.write(f, f.relative_to(target))
    return zipped.stat().st_size


def build_report(cold_rows, calls, tp, zips, c7n_zip):
    sg = [r["safeguard"] for r in cold_rows]
    cu = [r["custodian"] for r in cold_rows]
    return {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "date": time.strftime("%Y-%m-%d %H:%M:%S")},
        "cold_ms": {"safeguard": stats([r["ms"] for r in sg]), "custodian": stats([r["ms"] for r in cu]),
                    "ratio": stats([r["ratio"] for r in cold_rows])},
        "peak_rss_mib": {"safeguard": stats([r["rss_kb"] / 1024 for r in sg]),
                         "custodian": stats([r["rss_kb"] / 1024 for r in cu]),
                         "ratio": stats([a["rss_kb"] / b["rss_kb"] for a, b in zip(sg, cu)])},
        "cold_fixed": {"safeguard": sum(r["ok"] for r in sg), "custodian": sum(r["ok"] for r in cu),
                       "runs": len(cold_rows)},
        "calls_per_event": calls,
        "throughput": tp,
        "zip_bytes": zips,
        "custodian_package_bytes": c7n_zip,
        "targets": TARGETS,
        "runs": cold_rows,
    }


def verdict(ok):
    return "met" if ok else "**missed**"


def markdown(r):
    mib = 1024 * 1024
    cold, rss = r["cold_ms"], r["peak_rss_mib"]
    lines = [
        "| measure (min / median / max) | Safeguard | Cloud Custodian | Safeguard / Custodian | target |",
        "|---|---|---|---|---|",
        f"| cold start, one PutBucketAcl event, spawn to fixed (ms) | {fmt(cold['safeguard'])} | "
        f"{fmt(cold['custodian'])} | {fmt(cold['ratio'], digits=3)} | <= 0.05: "
        f"{verdict(cold['ratio'] and cold['ratio']['median'] <= TARGETS['cold_ratio'])} |",
        f"| peak RSS of that process (MiB) | {fmt(rss['safeguard'])} | {fmt(rss['custodian'])} | "
        f"{fmt(rss['ratio'], digits=3)} | <= 25 MiB: "
        f"{verdict(rss['safeguard'] and rss['safeguard']['max'] <= TARGETS['rss_mb'])} |",
    ]
    for name, row in r["calls_per_event"].items():
        s, c = row["safeguard"], row.get("custodian")
        ratio = f"{s['calls'] / c['calls']:.2f}" if c and c["calls"] else "n/a"
        target = verdict(c and s["calls"] <= TARGETS["calls_ratio"] * c["calls"]) if c else "n/a"
        cu = f"{c['calls']} (fixed: {c['ok']})" if c else f"n/a: {row.get('note', '')}"
        lines.append(f"| API requests per event, warm: {name} | {s['calls']} (fixed: {s['ok']}) | {cu} | {ratio} | "
                     f"<= 0.5: {target} |")
    lines.append("")
    lines.append("Operations behind those per-event counts (the alert is the SNS Publish on both sides):")
    lines.append("")
    for name, row in r["calls_per_event"].items():
        for side in ("safeguard", "custodian"):
            if row.get(side):
                lines.append(f"- {name}, {side}: {', '.join(row[side]['ops'])}")
    lines.append("")
    lines += ["| measure (min / median / max) | Safeguard | Cloud Custodian | Safeguard / Custodian | target |",
              "|---|---|---|---|---|"]
    tp = r["throughput"]
    if "safeguard" in tp:
        s, c = tp["safeguard"], tp.get("custodian")
        ratio = f"{s['events_per_s'] / c['events_per_s']:.1f}x" if c else "n/a"
        lines.append(f"| throughput, one warm process (events/s; events) | {s['events_per_s']:.1f} ({s['events']}, "
                     f"{s['fixed']} fixed, {s['alerts']} alerts) | "
                     + (f"{c['events_per_s']:.2f} ({c['events']}, {c['fixed']} fixed, {c['alerts']} alerts)" if c else "n/a")
                     + f" | {ratio} faster | |")
        lines.append(f"| of which the emulator's own time (s) | {s['emulator_s']:.2f} of {s['wall_s']:.2f} | "
                     + (f"{c['emulator_s']:.2f} of {c['wall_s']:.2f}" if c else "n/a") + " | | |")
        lines.append(f"| handler's own time per event, emulator excluded (ms) | {s['own_ms_per_event']:.2f} | "
                     + (f"{c['own_ms_per_event']:.2f}" if c else "n/a") + " | | |")
    zips = r["zip_bytes"]
    c7n = r["custodian_package_bytes"] / mib
    for fn in sorted(zips):
        arches = zips[fn]
        sizes = ", ".join(f"{a} {b / mib:.2f}" for a, b in sorted(arches.items()))
        lines.append(f"| deployment zip: {fn} (MiB) | {sizes} | {c7n:.2f} (c7n + deps beyond boto3) | | "
                     f"<= 5 MiB: {verdict(all(b <= TARGETS['zip_mb'] * mib for b in arches.values()))} |")
    if not any("arm64" in a for a in zips.values()):
        lines.append("| deployment zip, arm64 | not built this run (`make bench` with ZIPS=1 builds them; needs `rustup target add aarch64-unknown-linux-gnu`) | | | |")
    fixed = r["cold_fixed"]
    lines += ["", f"{r['machine']['cpus']} CPUs, {r['machine']['date']}; {fixed['runs']} cold runs each, interleaved "
              f"(fixed and alerted: Safeguard {fixed['safeguard']}, Custodian {fixed['custodian']}). Both sides do the same "
              "work: fix, then publish one alert to the same SNS topic (Custodian through its notify action's SNS "
              "transport); a run counts as fixed only when the alert reached the topic's subscriber. Custodian's policy "
              "only removes the global grants, as Safeguard does; the kit's reference policy also sets the public access "
              "block (14 requests, ../shared/bench/custodian/README.md). Safeguard's extra requests are the exemption-tag "
              "read and the read-back that proves the fix held, which Custodian does not do."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--events", type=int, default=1000, help="throughput: events through one warm Safeguard process")
    ap.add_argument("--c7n-events", type=int, default=1000, help="throughput: events through one warm Custodian process")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    log = open(OUT / "processes.log", "w")
    print("bench: building the release functions and the Custodian venv", flush=True)
    binaries = {f: ensure_release(f) for f in ("access-control", "network", "encryption")}
    ensure_c7n()
    emu = Emulator()
    try:
        print(f"bench: cold start, {args.runs} runs each, interleaved", flush=True)
        cold_rows = cold(emu, binaries, args.runs, log)
        print("bench: API calls per remediated event", flush=True)
        calls = calls_per_event(emu, binaries, log)
        print("bench: throughput", flush=True)
        tp = throughput(emu, binaries, args.events, args.c7n_events, log)
    finally:
        emu.stop()
    report = build_report(cold_rows, calls, tp, function_zips(binaries), custodian_package())
    (OUT / "report.json").write_text(json.dumps(report, indent=2))
    md = markdown(report)
    (OUT / "report.md").write_text(md)
    print(md)
    failures = [r for r in cold_rows if not (r["safeguard"]["ok"] and r["custodian"]["ok"])]
    if failures:
        print(f"bench: {len(failures)} cold run(s) did not fix the bucket; see {log.name}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
