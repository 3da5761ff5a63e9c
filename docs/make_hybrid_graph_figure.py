#!/usr/bin/env python
"""Draw the hybrid graph of a small deep belief network to docs/hybrid_graph.png.

Run from the repository root (needs matplotlib)::

    python docs/make_hybrid_graph_figure.py

The picture comes from ``DeepBeliefNetwork.hybrid_graph``: the top RBM's undirected edges
(blue), the directed sigmoid edges parent -> child (grey arrows), and, dashed, the
moralization edges that :meth:`DeepBeliefNetwork.to_markov_network` adds between the
parents of each unit when it compiles the network into one Markov network.
"""

from pathlib import Path

import networkx as nx
from matplotlib.figure import Figure

from pgm_energy import DeepBeliefNetwork, RestrictedBoltzmannMachine
from pgm_energy.plotting import save_figure

OUT = Path(__file__).resolve().with_name("hybrid_graph.png")


def main():
    sizes = (6, 4, 3, 2)
    rbms = [RestrictedBoltzmannMachine.random(sizes[k], sizes[k + 1], scale=1.0, rng=k) for k in range(len(sizes) - 1)]
    dbn = DeepBeliefNetwork.from_rbms(rbms)
    graph = dbn.hybrid_graph
    moral = graph.moral_graph()
    position = {}
    for k, layer in enumerate(dbn.layers):
        for j, name in enumerate(layer):
            position[name] = (j - (len(layer) - 1) / 2.0, 1.6 * k)
    figure = Figure(figsize=(6.4, 4.6), dpi=100)
    axes = figure.add_subplot()
    moral_edges = [(a, b) for a, b, data in moral.edges(data=True) if data.get("moral")]
    nx.draw_networkx_edges(moral, position, edgelist=moral_edges, style="dashed", edge_color="#d62728",
                           width=0.9, alpha=0.7, ax=axes, connectionstyle="arc3,rad=0.35", arrows=True, arrowstyle="-")
    nx.draw_networkx_edges(graph.directed, position, edge_color="#777777", width=0.9, arrows=True, arrowsize=9,
                           ax=axes, node_size=420)
    nx.draw_networkx_edges(graph.undirected, position, edge_color="#1f77b4", width=1.8, ax=axes)
    colours = ["#ffffff" if graph.directed.nodes.get(name, {}).get("visible") else
               ("#c6dbef" if name in graph.undirected else "#e5e5e5") for name in dbn.names]
    nx.draw_networkx_nodes(moral, position, nodelist=list(dbn.names), node_color=colours, edgecolors="#333333",
                           node_size=420, ax=axes)
    nx.draw_networkx_labels(moral, position, font_size=7, ax=axes)
    for k, label in enumerate(["visible v (layer 0)", "h1 (directed)", "h2 (top RBM, shared)", "h3 (top RBM)"]):
        axes.text(3.6, 1.6 * k, label, va="center", fontsize=8)
    axes.set_title("DeepBeliefNetwork.hybrid_graph: undirected top RBM (blue) over directed\n"
                   "sigmoid layers (grey arrows); dashed red: moralization edges", fontsize=9)
    axes.set_xlim(-3.4, 5.6)
    axes.axis("off")
    figure.tight_layout()
    save_figure(figure, OUT, dpi=100)
    # A 64-colour palette keeps the file small for the repository (line art loses nothing visible).
    from PIL import Image

    with Image.open(OUT) as image:
        image.convert("RGB").quantize(colors=64).save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
