"""Draw bench/scale/results.json (from run.py) as bench/scale/scale.png: warm wall and CPU time
against N, one line per command, log-log. Needs matplotlib: run it with the bench's own env, e.g.

    uv venv bench/scale/.venv && uv pip install --python bench/scale/.venv/bin/python matplotlib
    bench/scale/.venv/bin/python bench/scale/plot.py [results.json] [scale.png]
"""
import json, os, sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results.json")
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "scale.png")
    with open(src) as f:
        r = json.load(f)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    for ax, key, what in ((axes[0], "warm", "wall time"), (axes[1], "warm_cpu", "CPU time (user + sys)")):
        for label, by_n in r["rows"].items():
            ns = sorted(int(n) for n in by_n if key in by_n[n])
            if not ns:
                continue
            kip = label.startswith("kip ")
            ax.plot(ns, [by_n[str(n)][key] for n in ns], marker="o" if kip else "s",
                    linestyle="-" if kip else "--", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (kernels over 10 interpreters, and environments of mixed kinds)")
        ax.set_ylabel("warm median %s (s)" % what)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("kip at hub scale: 2 cores, load average %.1f, median of %d warm runs"
                 % (r["load"][0], r["reps"]))
    fig.tight_layout()
    fig.savefig(dst, dpi=110)
    print("wrote", dst)


if __name__ == "__main__":
    main()
