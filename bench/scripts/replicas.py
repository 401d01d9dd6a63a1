#!/usr/bin/env python3
"""Replicas of `vellama serve` behind HAProxy (deploy/haproxy.cfg), on loopback only; not a test.

  python3 bench/scripts/replicas.py ./vellama MODEL.gguf [THREADS_PER_REPLICA]

1. Prompt reuse: three replicas of four slots, twelve chats of four turns each (every turn resends the whole
   conversation), three chats at a time; with and without the X-Session-Id routing key. The hit rate is the share of the prompt tokens
   the clients sent that no replica had to evaluate again (1 - sum of vellama_prompt_tokens_total / sum of
   usage.prompt_tokens).
2. Aggregate generation speed through the balancer for 1, 2 and 3 replicas: six clients, four greedy completions
   of 32 tokens each. On one machine the replicas share its cores.
Every loop is bounded in count and time; every process it starts is stopped at the end.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def post(url, body, key=None, timeout=120):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    if key:
        req.add_header("X-Session-Id", key)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


def await_healthy(port, limit=90):
    until = time.time() + limit
    while time.time() < until:
        try:
            if get(f"http://127.0.0.1:{port}/health", 2)[0] == 200:
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"nothing healthy on port {port} within {limit} s")


class Cluster:
    def __init__(self, vellama, model, replicas, threads, tmp, slots=2):
        self.procs = []
        ports = free_ports(replicas + 1)
        self.replica_ports, self.front = ports[:replicas], ports[replicas]
        for p in self.replica_ports:
            self.procs.append(subprocess.Popen([vellama, "serve", "-m", model, "--port", str(p), "-np", str(slots),
                                                "-c", "2048", "-t", str(threads)],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p in self.replica_ports:
            await_healthy(p)
        cfg = open(os.path.join(ROOT, "deploy", "haproxy.cfg")).read()
        cfg = cfg.replace("bind 127.0.0.1:8080", f"bind 127.0.0.1:{self.front}")
        cfg = re.sub(r"    server replica\d 127\.0\.0\.1:808\d\n", "", cfg)
        cfg += "".join(f"    server replica{i + 1} 127.0.0.1:{p}\n" for i, p in enumerate(self.replica_ports))
        path = os.path.join(tmp, f"haproxy-{replicas}.cfg")
        open(path, "w").write(cfg)
        self.procs.append(subprocess.Popen(["haproxy", "-db", "-f", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        await_healthy(self.front)
        time.sleep(6)  # every replica up in HAProxy's checks, slow start over

    def url(self, path):
        return f"http://127.0.0.1:{self.front}{path}"

    def evaluated_prompt_tokens(self):
        total = 0
        for p in self.replica_ports:
            m = re.search(r"^vellama_prompt_tokens_total (\S+)$", get(f"http://127.0.0.1:{p}/metrics")[1], re.M)
            total += float(m.group(1))
        return total

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()


def reuse(vellama, model, threads, tmp, keyed):
    c = Cluster(vellama, model, 3, threads, tmp, slots=4)
    try:
        before = c.evaluated_prompt_tokens()
        sent = [0]
        lock = threading.Lock()
        topics = ["a table", "an index", "a backup", "a function", "a module", "a server", "a query", "a view",
                  "a trigger", "a class", "a list", "a file"]

        def chat(i):
            messages = [{"role": "system", "content": "You answer questions about software documentation."}]
            for turn in range(4):
                messages.append({"role": "user", "content": f"Tell me more about {topics[i]}, part {turn + 1}."})
                r = post(c.url("/v1/chat/completions"), {"messages": messages, "max_tokens": 24, "temperature": 0},
                         key=f"chat-{i}" if keyed else None)
                messages.append({"role": "assistant", "content": r["choices"][0]["message"]["content"]})
                with lock:
                    sent[0] += r["usage"]["prompt_tokens"]

        def worker(w):
            for i in range(w, 12, 3):
                chat(i)

        ts = [threading.Thread(target=worker, args=(w,)) for w in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(300)
        evaluated = c.evaluated_prompt_tokens() - before
        return sent[0], evaluated
    finally:
        c.stop()


def throughput(vellama, model, threads, tmp, replicas):
    c = Cluster(vellama, model, replicas, threads, tmp)
    try:
        generated = [0]
        lock = threading.Lock()
        prompts = ["Once upon a time", "The function returns", "To create a table", "The server started",
                   "An index is", "Python is a"]

        def client(i):
            for k in range(4):
                r = post(c.url("/v1/completions"), {"prompt": prompts[(i + k) % 6], "max_tokens": 32, "temperature": 0,
                                                    "ignore_eos": True})
                with lock:
                    generated[0] += r["usage"]["completion_tokens"]

        t0 = time.time()
        ts = [threading.Thread(target=client, args=(i,)) for i in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(300)
        return generated[0], time.time() - t0
    finally:
        c.stop()


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    vellama, model = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with tempfile.TemporaryDirectory() as tmp:
        for keyed in (True, False):
            sent, evaluated = reuse(vellama, model, threads, tmp, keyed)
            print(f"prompt reuse, {'with' if keyed else 'without'} X-Session-Id: {sent} prompt tokens sent, "
                  f"{evaluated:.0f} evaluated, hit rate {1 - evaluated / sent:.3f}", flush=True)
        for n in (1, 2, 3):
            tokens, seconds = throughput(vellama, model, threads, tmp, n)
            print(f"{n} replica{'s' if n > 1 else ''}: {tokens} tokens in {seconds:.2f} s, {tokens / seconds:.1f} tokens/s",
                  flush=True)


if __name__ == "__main__":
    main()
