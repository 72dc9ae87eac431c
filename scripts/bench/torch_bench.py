#!/usr/bin/python3
"""Times the workloads of `cohort bench tensor` in PyTorch on CPU.

Same models, batch sizes and thread counts: an SGD-with-momentum training step (zero
gradients, forward, cross-entropy, backward, update) of the MLP 784-256-256-10 and of the
small CNN on 1x28x28 inputs, both at batch 128; sgemm (torch.mm) at the given sizes;
conv2d 16->32 3x3 pad 1 on 128x16x14x14, forward and forward+backward (input and weight
gradients). Reports the median and the fastest of the repeats, like Cohort. Run with Debian's
/usr/bin/python3 (python3-torch).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def timed(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def small_cnn():
    # Mirrors SmallCNN.make(channels: 1, height: 28, width: 28, classes: 10): filters 16/32,
    # conv without bias before batch norm, hidden 128.
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def step_time(model, shape, repeats):
    torch.manual_seed(2)
    x = torch.rand(*shape)
    y = torch.randint(0, 10, (shape[0],))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return timed(step, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    for t in [int(v) for v in args.threads.split(",")]:
        torch.set_num_threads(t)
        for n in [int(v) for v in args.sizes.split(",")]:
            a, b = torch.rand(n, n) - 0.5, torch.rand(n, n) - 0.5
            flop = 2.0 * n ** 3
            med, best = timed(lambda: torch.mm(a, b), max(3, min(50, int(2e10 / flop))), warmup=2)
            results.append(dict(kind="sgemm", name=f"sgemm n={n}", threads=t, milliseconds=med, bestMilliseconds=best,
                                gflops=flop / best / 1e6))
        med, best = step_time(mlp(), (128, 784), args.repeats)
        results.append(dict(kind="step", name="MLP 784-256-256-10 b128 step", threads=t, milliseconds=med, bestMilliseconds=best))
        med, best = step_time(small_cnn(), (128, 1, 28, 28), max(5, args.repeats // 2))
        results.append(dict(kind="step", name="SmallCNN 28x28 b128 step", threads=t, milliseconds=med, bestMilliseconds=best))
        conv = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        x = torch.rand(128, 16, 14, 14) - 0.5
        xg = x.clone().requires_grad_(True)
        flop = 2.0 * 128 * 32 * 14 * 14 * 16 * 9
        label = "conv2d 16->32 3x3 on 128x16x14x14"
        with torch.no_grad():
            fwd = timed(lambda: conv(x), max(5, args.repeats // 2))

        def both():
            conv.zero_grad(set_to_none=False)
            xg.grad = None
            conv(xg).sum().backward()
        bwd = timed(both, max(5, args.repeats // 2))
        results.append(dict(kind="conv2d", name=label + " forward", threads=t, milliseconds=fwd[0], bestMilliseconds=fwd[1],
                            gflops=flop / fwd[1] / 1e6))
        results.append(dict(kind="conv2d", name=label + " forward+backward", threads=t, milliseconds=bwd[0], bestMilliseconds=bwd[1],
                            gflops=3 * flop / bwd[1] / 1e6))
    if args.json:
        print(json.dumps(dict(torch=torch.__version__, results=results), indent=2))
        return
    print(f"PyTorch {torch.__version__} (MKLDNN {torch.backends.mkldnn.is_available()})")
    print(f"{'workload':54}{'threads':8}{'median ms':11}{'best ms':10}GFLOP/s")
    for r in results:
        gf = f"{r['gflops']:.1f}" if r.get("gflops") else "-"
        print(f"{r['name']:54}{r['threads']:<8}{r['milliseconds']:<11.3f}{r['bestMilliseconds']:<10.3f}{gf}")


if __name__ == "__main__":
    main()
