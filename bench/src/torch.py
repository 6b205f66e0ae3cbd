"""PyTorch contender: the same workloads and the same worker protocol as the JavaScript
contenders (see worker.ts and harness.ts), over JSON lines on stdin/stdout.

Started by main.ts as `python3 bench/src/torch.py`; each reply line starts with REPLY_PREFIX
so anything else a library prints is ignored. Threads: BENCH_TORCH_THREADS (default 1, like
the single-threaded JavaScript peers).
"""

import json
import math
import os
import sys
import time

REPLY_PREFIX = "@@bench "

# NOTE: this file is named torch.py, and Python puts the script's folder first on sys.path:
# without this, `import torch` would import this file again instead of PyTorch.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

import torch  # noqa: E402  (an ImportError here is reported by main.ts as "unavailable")
import torch.nn.functional as F  # noqa: E402

try:
    import numpy as np
except ImportError:  # pragma: no cover - torch from pip may come without numpy
    np = None

# Keep in step with data.ts.
SEEDS = {"trX": 101, "trTarget": 102, "trAttn": 103, "trFF1": 104, "trFF2": 105, "matA": 11, "matB": 12, "x": 21, "y": 22, "w1": 31, "b1": 32, "w2": 33, "b2": 34, "chain": 41, "layout": 61, "index": 81,
         "convX1": 71, "convW1": 72, "convB1": 73, "convX2": 74, "convW2": 75, "convB2": 76,
         "jvpW1": 111, "jvpB1": 112, "jvpW2": 113, "jvpB2": 114,
         "perSampleX": 121, "perSampleY": 122, "perSampleW1": 123, "perSampleW2": 124, "perSampleB": 125,
         "elementwise": 131, "pinnPoints": 132, "pinnWeights": 133}
PINN_SIZES = [2, 32, 32, 1]
PINN_ALPHA = 0.1
CHAIN_CYCLE = ["mul", "add", "tanh"]
CHAIN_MUL = 0.5
CHAIN_ADD = 0.1
M32 = 0xFFFFFFFF


def _hash32_py(x):
    x ^= x >> 16
    x = (x * 0x7FEB352D) & M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & M32
    x ^= x >> 16
    return x


def _hashes(n, seed):
    """lowbias32 of (seed * 0x9E3779B1 + i) mod 2^32, i < n: as data.ts."""
    base = (seed * 0x9E3779B1) & M32
    if np is None:
        return [_hash32_py((base + i) & M32) for i in range(n)]
    x = ((np.arange(n, dtype=np.uint64) + np.uint64(base)) & np.uint64(M32)).astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def uniform(n, seed, lo, hi, dtype=torch.float32):
    """Same values as data.ts uniform(): computed in float64, then rounded to dtype."""
    h = _hashes(n, seed)
    scale = (hi - lo) / 4294967296.0
    if np is None:
        return torch.tensor([lo + v * scale for v in h], dtype=torch.float64).to(dtype)
    return torch.from_numpy(lo + h.astype(np.float64) * scale).to(dtype)


def labels(n, seed, classes):
    h = _hashes(n, seed)
    if np is None:
        return torch.tensor([(v * classes) >> 32 for v in h], dtype=torch.int64)
    return torch.from_numpy((h.astype(np.int64) * classes) >> 32)


def matmul(n, dtype):
    dt = torch.float32 if dtype == "float32" else torch.float64
    a = uniform(n * n, SEEDS["matA"], -1, 1, dt).reshape(n, n)
    b = uniform(n * n, SEEDS["matB"], -1, 1, dt).reshape(n, n)

    def run():
        torch.mm(a, b)

    return run


def mlp_params():
    """The 784-128-10 MLP's seeded parameters w1, b1, w2, b2 (as data.ts mlpData)."""
    n_in, n_hidden, n_out = 784, 128, 10
    k1 = 1 / n_in**0.5
    k2 = 1 / n_hidden**0.5
    return (
        uniform(n_in * n_hidden, SEEDS["w1"], -k1, k1).reshape(n_in, n_hidden),
        uniform(n_hidden, SEEDS["b1"], -k1, k1),
        uniform(n_hidden * n_out, SEEDS["w2"], -k2, k2).reshape(n_hidden, n_out),
        uniform(n_out, SEEDS["b2"], -k2, k2),
    )


def mlp(batch, batches, lr):
    n_in, n_out = 784, 10
    w1, b1, w2, b2 = (p.requires_grad_() for p in mlp_params())
    x = uniform(batch * batches * n_in, SEEDS["x"], -1, 1).reshape(batches, batch, n_in)
    y = labels(batch * batches, SEEDS["y"], n_out).reshape(batches, batch)
    opt = torch.optim.SGD([w1, b1, w2, b2], lr=lr)
    state = {"i": 0}

    def run():
        k = state["i"] % batches
        state["i"] += 1
        logits = torch.relu(x[k] @ w1 + b1) @ w2 + b2
        loss = F.cross_entropy(logits, y[k])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return run


def chain(ops, size):
    seq = [CHAIN_CYCLE[i % len(CHAIN_CYCLE)] for i in range(ops)]
    x = uniform(size, SEEDS["chain"], -1, 1).requires_grad_()

    def run():
        y = x
        for op in seq:
            if op == "mul":
                y = y * CHAIN_MUL
            elif op == "add":
                y = y + CHAIN_ADD
            else:
                y = torch.tanh(y)
        y.sum().backward()
        x.grad = None

    return run


def conv(batch):
    k1, k2 = 1 / 25**0.5, 1 / 150**0.5
    x1 = uniform(batch * 784, SEEDS["convX1"], 0, 1).reshape(batch, 1, 28, 28)
    w1 = uniform(150, SEEDS["convW1"], -k1, k1).reshape(6, 1, 5, 5).requires_grad_()
    b1 = uniform(6, SEEDS["convB1"], -k1, k1).requires_grad_()
    x2 = uniform(batch * 864, SEEDS["convX2"], -1, 1).reshape(batch, 6, 12, 12).requires_grad_()
    w2 = uniform(2400, SEEDS["convW2"], -k2, k2).reshape(16, 6, 5, 5).requires_grad_()
    b2 = uniform(16, SEEDS["convB2"], -k2, k2).requires_grad_()
    params = [x2, w1, b1, w2, b2]

    def run():
        for p in params:
            p.grad = None
        loss = F.conv2d(x1, w1, b1).sum() + F.conv2d(x2, w2, b2).sum()
        loss.backward()
        return loss.item()

    return run


def layout(op, rows, width, pieces):
    if op == "concat":
        parts = [uniform(rows * width, SEEDS["layout"] + p, -1, 1).reshape(rows, width) for p in range(pieces)]

        def run():
            torch.cat(parts, -1)

        return run
    x = uniform(rows * width * pieces, SEEDS["layout"], -1, 1).reshape(rows, width * pieces)

    def run_cumsum():
        torch.cumsum(x, -1)

    return run_cumsum


def linalg(op, n):
    u = uniform(n * n, SEEDS["matA"], -1, 1, torch.float64).reshape(n, n)
    identity = torch.eye(n, dtype=torch.float64)
    if op == "solve":
        a = u + n * identity
        b = uniform(n, SEEDS["matB"], -1, 1, torch.float64)

        def run():
            torch.linalg.solve(a, b)

        return run
    s = u @ u.T / n + identity

    def run():
        torch.linalg.cholesky(s)

    return run


def contraction(w):
    dt = torch.float32 if w["dtype"] == "float32" else torch.float64
    xs = [uniform(math.prod(s), SEEDS["matA"] + i, -1, 1, dt).reshape(s) for i, s in enumerate(w["shapes"])]

    def run():
        if w["via"] == "einsum":
            torch.einsum(w["equation"], *xs)
        elif len(xs) == 2:
            torch.matmul(xs[0], xs[1])
        else:
            torch.matmul(xs[0], torch.matmul(xs[1], xs[2]))

    return run


def indexing(op, rows, width, picks, vocab):
    if op == "embedding":
        weight = uniform(vocab * width, SEEDS["index"], -1, 1).reshape(vocab, width).requires_grad_()
        ids = labels(rows, SEEDS["index"], vocab)
        g = uniform(rows * width, SEEDS["index"] + 1, -1, 1).reshape(rows, width)

        def run_embedding():
            F.embedding(ids, weight).backward(g)
            weight.grad = None

        return run_embedding
    idx = labels(rows * picks, SEEDS["index"], width).reshape(rows, picks)
    if op == "gather":
        x = uniform(rows * width, SEEDS["index"], -1, 1).reshape(rows, width)

        def run_gather():
            torch.gather(x, 1, idx)

        return run_gather
    base = torch.zeros(rows, width)
    src = uniform(rows * picks, SEEDS["index"] + 1, -1, 1).reshape(rows, picks)

    def run_scatter_add():
        base.scatter_add(1, idx, src)

    return run_scatter_add


def transformer(w):
    """data.ts's transformerData in PyTorch's TransformerEncoderLayer (post-norm, relu, batch first)."""
    b, s, d, ff = w["batch"], w["seq"], w["dModel"], w["dimFeedforward"]
    layer = torch.nn.TransformerEncoderLayer(d, w["nhead"], dim_feedforward=ff, dropout=0.0, batch_first=True)
    attn = uniform(4 * d * d, SEEDS["trAttn"], -1, 1)
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
        layer.norm1.weight.fill_(1)
        layer.norm2.weight.fill_(1)
        layer.self_attn.in_proj_weight.copy_((attn[: 3 * d * d] * math.sqrt(6 / (4 * d))).reshape(3 * d, d))
        layer.self_attn.out_proj.weight.copy_((attn[3 * d * d:] / math.sqrt(d)).reshape(d, d))
        layer.linear1.weight.copy_(uniform(ff * d, SEEDS["trFF1"], -1 / math.sqrt(d), 1 / math.sqrt(d)).reshape(ff, d))
        layer.linear2.weight.copy_(uniform(d * ff, SEEDS["trFF2"], -1 / math.sqrt(ff), 1 / math.sqrt(ff)).reshape(d, ff))
    x = uniform(b * s * d, SEEDS["trX"], -1, 1).reshape(b, s, d)
    target = uniform(b * s * d, SEEDS["trTarget"], -1, 1).reshape(b, s, d)
    opt = torch.optim.SGD(layer.parameters(), lr=w["lr"])

    def run():
        opt.zero_grad()
        loss = F.mse_loss(layer(x), target)
        loss.backward()
        opt.step()
        return loss.item()

    return run


def forward_mode(batch, via):
    """The MLP's logits, or their jvp (functorch.jvp: torch.func's in 1.13) along seeded tangents of the parameters."""
    n_in, n_hidden, n_out = 784, 128, 10
    x = uniform(batch * n_in, SEEDS["x"], -1, 1).reshape(batch, n_in)
    primals = mlp_params()
    tangents = (
        uniform(n_in * n_hidden, SEEDS["jvpW1"], -1, 1).reshape(n_in, n_hidden),
        uniform(n_hidden, SEEDS["jvpB1"], -1, 1),
        uniform(n_hidden * n_out, SEEDS["jvpW2"], -1, 1).reshape(n_hidden, n_out),
        uniform(n_out, SEEDS["jvpB2"], -1, 1),
    )

    def logits(w1, b1, w2, b2):
        return torch.relu(x @ w1 + b1) @ w2 + b2

    if via == "forward":
        def run_forward():
            with torch.no_grad():
                return logits(*primals)[0, 0].item()
        return run_forward
    try:
        from functorch import jvp
    except ImportError:
        return "no functorch (torch.func) in this PyTorch"

    def run():
        return jvp(logits, primals, tangents)[1][0, 0].item()

    return run


# Keep in step with data.ts LENET_PARAMS: state-dict name, shape, fan-in.
LENET_PARAMS = [("0.weight", [6, 1, 5, 5], 25), ("0.bias", [6], 25), ("3.weight", [16, 6, 5, 5], 150), ("3.bias", [16], 150),
                ("7.weight", [120, 400], 400), ("7.bias", [120], 400), ("9.weight", [84, 120], 120), ("9.bias", [84], 120),
                ("11.weight", [10, 84], 84), ("11.bias", [10], 84)]


def lenet(batch, lr):
    """LeNet-5 as data.ts lenetData seeds it (images 91, labels 92, one float64 parameter stream 93)."""
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )
    sizes = [math.prod(shape) for _, shape, _ in LENET_PARAMS]
    stream = uniform(sum(sizes), 93, 0, 1, torch.float64)
    state, at = {}, 0
    for (name, shape, fan_in), size in zip(LENET_PARAMS, sizes):
        k = 1 / math.sqrt(fan_in)
        state[name] = (-k + 2 * k * stream[at:at + size]).to(torch.float32).reshape(shape)
        at += size
    net.load_state_dict(state)
    x = uniform(batch * 784, 91, 0, 1).reshape(batch, 1, 28, 28)
    y = labels(batch, 92, 10)
    opt = torch.optim.SGD(net.parameters(), lr=lr)

    def run():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return run


def per_sample(batch, mode):
    """Per-sample gradients by functorch's vmap(grad) (torch.func in later versions), or the batch gradient."""
    n_in, n_hidden, n_out = 784, 128, 10
    k1 = 1 / n_in**0.5
    k2 = 1 / n_hidden**0.5
    # As data.ts perSampleData: one stream of biases in [-1, 1) rounded to float32, then scaled.
    biases = uniform(n_hidden + n_out, SEEDS["perSampleB"], -1, 1).double()
    p = {
        "w1": uniform(n_in * n_hidden, SEEDS["perSampleW1"], -k1, k1).reshape(n_in, n_hidden),
        "b1": (biases[:n_hidden] * k1).float(),
        "w2": uniform(n_hidden * n_out, SEEDS["perSampleW2"], -k2, k2).reshape(n_hidden, n_out),
        "b2": (biases[n_hidden:] * k2).float(),
    }
    x = uniform(batch * n_in, SEEDS["perSampleX"], -1, 1).reshape(batch, n_in)
    y = labels(batch, SEEDS["perSampleY"], n_out)

    def logits(q, xs):
        return torch.relu(xs @ q["w1"] + q["b1"]) @ q["w2"] + q["b2"]

    if mode == "batch":
        leaves = {k: v.clone().requires_grad_() for k, v in p.items()}

        def run_batch():
            grads = torch.autograd.grad(F.cross_entropy(logits(leaves, x), y), list(leaves.values()))
            return float(grads[0][0, 0])

        return run_batch
    try:
        from functorch import grad, vmap
    except ImportError:
        return "no functorch"

    def one(q, xi, yi):
        return F.cross_entropy(logits(q, xi.unsqueeze(0)), yi.unsqueeze(0))

    per_example = vmap(grad(one), in_dims=(None, 0, 0))

    def run():
        g = per_example(p, x, y)
        return float(g["w1"][0, 0, 0])

    return run


def pinn_data(points, dtype=torch.float32):
    """As data.ts pinnData: one float32 stream cut into w1, b1, w2, b2, w3, b3, each scaled by 1/sqrt(fan-in) in float64."""
    a, b, c, d = PINN_SIZES
    sizes = [a * b, b, b * c, c, c * d, d]
    fan_ins = [a, a, b, b, c, c]
    shapes = [(a, b), (b,), (b, c), (c,), (c, d), (d,)]
    stream = uniform(sum(sizes), SEEDS["pinnWeights"], -1, 1).double()
    params, at = [], 0
    for n, fan_in, shape in zip(sizes, fan_ins, shapes):
        params.append((stream[at:at + n] * (1 / fan_in**0.5)).float().to(dtype).reshape(shape))
        at += n
    xt = uniform(points * 2, SEEDS["pinnPoints"], 0, 1).to(dtype).reshape(points, 2)
    return xt, params


def pinn_loss(params, xt, create_graph_grad):
    """mean((u_t - alpha*u_xx)^2); create_graph_grad(out, inp) differentiates out w.r.t. inp keeping the graph."""
    w1, b1, w2, b2, w3, b3 = params
    u = torch.tanh(torch.tanh(xt @ w1 + b1) @ w2 + b2) @ w3 + b3
    du = create_graph_grad(u.sum(), xt)
    ut = du[:, 1:2]
    uxx = create_graph_grad(du[:, 0:1].sum(), xt)[:, 0:1]
    return ((ut - PINN_ALPHA * uxx) ** 2).mean()


def compiled(w):
    """The compiled-program rows (types.ts, CompiledWorkload). PyTorch 1.13 compiles none of them
    (no torch.compile); the jit rows run functorch's transforms eagerly, where they apply."""
    program, via = w["program"], w["via"]
    if program == "elementwise":
        x = uniform(w["size"], SEEDS["elementwise"], -2, 2)

        def run_chain():
            h = torch.relu(torch.abs(x * 1.5 + 0.25) * x - 0.1) * 0.5
            return float(torch.square(-h + x)[0])

        return run_chain
    if program == "pinn":
        xt, params = pinn_data(w["size"])
        if via == "eager":
            leaves = [p.clone().requires_grad_() for p in params]
            pts = xt.clone().requires_grad_()

            def grad_keep(out, inp):
                return torch.autograd.grad(out, inp, create_graph=True)[0]

            def run_eager():
                loss = pinn_loss(leaves, pts, grad_keep)
                grads = torch.autograd.grad(loss, leaves, allow_unused=True)
                return float(loss) + 0 * float(grads[0][0, 0])

            return run_eager
        try:
            from functorch import grad_and_value, grad
        except ImportError:
            return "no functorch"

        def u_sum(ps, y):
            w1, b1, w2, b2, w3, b3 = ps
            return (torch.tanh(torch.tanh(y @ w1 + b1) @ w2 + b2) @ w3 + b3).sum()

        def loss_fn(ps, y):
            du = grad(u_sum, argnums=1)
            ut = du(ps, y)[:, 1:2]
            uxx = grad(lambda yy: du(ps, yy)[:, 0].sum())(y)[:, 0:1]
            return ((ut - PINN_ALPHA * uxx) ** 2).mean()

        step = grad_and_value(loss_fn)

        def run_functorch():
            grads, value = step(params, xt)
            return float(value) + 0 * float(grads[0][0, 0])

        return run_functorch
    n_in, n_hidden, n_out = 784, 128, 10
    batch, batches, lr = w["size"], 4, w["lr"]
    k1 = 1 / n_in**0.5
    k2 = 1 / n_hidden**0.5
    state = {"i": 0, "p": [
        uniform(n_in * n_hidden, SEEDS["w1"], -k1, k1).reshape(n_in, n_hidden),
        uniform(n_hidden, SEEDS["b1"], -k1, k1),
        uniform(n_hidden * n_out, SEEDS["w2"], -k2, k2).reshape(n_hidden, n_out),
        uniform(n_out, SEEDS["b2"], -k2, k2),
    ]}
    x = uniform(batch * batches * n_in, SEEDS["x"], -1, 1).reshape(batches, batch, n_in)
    y = labels(batch * batches, SEEDS["y"], n_out).reshape(batches, batch)

    def loss_of(ps, xb, yb):
        return F.cross_entropy(torch.relu(xb @ ps[0] + ps[1]) @ ps[2] + ps[3], yb)

    if via == "jit":
        try:
            from functorch import grad_and_value
        except ImportError:
            return "no functorch"
        step_grads = grad_and_value(loss_of)
    else:
        def step_grads(ps, xb, yb):
            leaves = [p.detach().requires_grad_() for p in ps]
            loss = loss_of(leaves, xb, yb)
            return torch.autograd.grad(loss, leaves), loss

    def run_step():
        k = state["i"] % batches
        state["i"] += 1
        grads, loss = step_grads(state["p"], x[k], y[k])
        with torch.no_grad():
            state["p"] = [p - lr * g for p, g in zip(state["p"], grads)]
        return float(loss)

    return run_step


def setup(w):
    kind = w["kind"]
    if kind == "compiled":
        return compiled(w)
    if kind == "transformer":
        return transformer(w)
    if kind == "perSample":
        return per_sample(w["batch"], w["mode"])
    if kind == "lenet":
        return lenet(w["batch"], w["lr"])
    if kind == "linalg":
        return linalg(w["op"], w["n"])
    if kind == "einsum":
        return contraction(w)
    if kind == "matmul":
        return matmul(w["n"], w["dtype"])
    if kind == "mlp":
        return mlp(w["batch"], w["batches"], w["lr"])
    if kind == "chain":
        return chain(w["ops"], w["size"])
    if kind == "indexing":
        return indexing(w["op"], w["rows"], w["width"], w["picks"], w["vocab"])
    if kind == "conv":
        return conv(w["batch"])
    if kind == "jvp":
        return forward_mode(w["batch"], w["via"])
    if kind == "layout":
        return layout(w["op"], w["rows"], w["width"], w["pieces"])
    return "no scalar Value graph"


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def calibrate(run, t):
    """As harness.ts calibrate(): first run apart, warm-up, batch size for targetBatchMs."""
    now = time.perf_counter
    t0 = now()
    first = run()
    first_ms = (now() - t0) * 1000
    times = []
    start = now()
    while len(times) < t["minWarmupRuns"] or (now() - start) * 1000 < t["warmupMs"]:
        t0 = now()
        run()
        dt = (now() - t0) * 1000
        times.append(dt)
        if dt > t["slowRunMs"]:
            break
    tail = times[len(times) // 2 :]
    per_run = median(tail) if tail else first_ms
    cal = {
        "firstRunMs": first_ms,
        "perRunMs": per_run,
        "warmupRuns": len(times) + 1,
        "batch": max(1, round(t["targetBatchMs"] / max(per_run, 1e-6))),
    }
    if isinstance(first, float):
        cal["firstValue"] = first
    return cal


def measure(run, batch):
    now = time.perf_counter
    t0 = now()
    for _ in range(batch):
        run()
    return (now() - t0) * 1000


def info():
    threads = int(os.environ.get("BENCH_TORCH_THREADS", "1"))
    torch.set_num_threads(threads)
    notes = []
    # A BLAS-less build (Debian's python3-torch without libopenblas0-pthread) is 25-30x slower.
    a = torch.ones(256, 256)
    torch.mm(a, a)
    t0 = time.perf_counter()
    for _ in range(5):
        torch.mm(a, a)
    gflops = 5 * 2 * 256**3 / (time.perf_counter() - t0) / 1e9
    if gflops < 5:
        notes.append(f"slow BLAS ({gflops:.1f} GFLOP/s at n=256): is an optimized BLAS installed?")
    py = sys.version.split()[0]
    return {
        "version": torch.__version__,
        "backend": f"CPU, {torch.get_num_threads()} thread(s), Python {py}",
        "notes": notes,
    }


def main():
    out = sys.stdout
    current = None

    def reply(msg):
        out.write(REPLY_PREFIX + json.dumps(msg) + "\n")
        out.flush()

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            kind = req["type"]
            if kind == "load":
                reply({"type": "loaded", "info": info()})
            elif kind == "setup":
                current = None
                r = setup(req["workload"])
                if isinstance(r, str):
                    reply({"type": "unsupported", "reason": r})
                    continue
                current = r
                reply({"type": "ready", "calibration": calibrate(current, req["timing"])})
            elif kind == "measure":
                reply({"type": "sample", "totalMs": measure(current, req["batch"]), "batch": req["batch"]})
            elif kind == "teardown":
                current = None
                reply({"type": "done"})
            elif kind == "exit":
                return
            else:
                reply({"type": "error", "message": f"unsupported request {kind}"})
        except Exception as e:  # reported to main.ts, which marks the cell failed
            reply({"type": "error", "message": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
