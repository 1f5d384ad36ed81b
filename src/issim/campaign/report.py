"""A campaign's report: one self-contained HTML file (plotly.js inlined, nothing from the network).

The sums of :func:`issim.campaign.stats.summary` as charts and tables: the classes of ending
and each person's survival as bars with their 95 % intervals, when each beat first comes
(median, with the 10th to 90th percentile as the whisker), the commonest story paths, and
the sensitivity models with their accuracy beside the base rate.
"""

from __future__ import annotations

import html
import json

from ..archive.report.page import CONFIG, plotly_js

FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _bars(div: str, labels: list[str], rows: list[dict], title: str, x_title: str) -> str:
    """Horizontal bars of shares (per cent) with their 95 % intervals."""
    share = [100 * r["share"] for r in rows]
    lo = [100 * (r["share"] - r["ci95"][0]) for r in rows]
    hi = [100 * (r["ci95"][1] - r["share"]) for r in rows]
    fig = {"data": [{"type": "bar", "orientation": "h", "y": labels, "x": share, "marker": {"color": "#2e6da4"},
                     "error_x": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
                     "hovertemplate": "%{y}: %{x:.1f} %<extra></extra>"}],
           "layout": {"title": {"text": title}, "xaxis": {"title": {"text": x_title}, "range": [0, 100]},
                      "yaxis": {"autorange": "reversed", "automargin": True}, "height": 120 + 28 * len(rows),
                      "margin": {"l": 10, "r": 20, "t": 50, "b": 50}, "font": {"family": FONT, "size": 12},
                      "template": "plotly_white"}}
    return _figure(div, fig)


def _figure(div: str, fig: dict) -> str:
    payload = json.dumps(fig).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    height = int(fig["layout"].get("height", 400))
    return (f'<div id="{div}" style="height:{height}px"></div>\n<script>(function () {{ var f = {payload};\n'
            f'Plotly.newPlot("{div}", f.data, f.layout, {json.dumps(CONFIG)}); }})();</script>\n')


def _table(head: list[str], rows: list[list]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>\n"


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def render(name: str, info: dict, s: dict) -> str:
    """The report's HTML."""
    length = f"{info['hours']:g} simulated hours each" if info["hours"] is not None else "each as long as the scenario"
    parts = [f"<h1>Campaign {_e(name)}</h1>",
             f"<p>{s['total']} of {info['runs']} runs of <b>{_e(info['scenario'])}</b>, {_e(length)}"
             f"{', or until its story was over' if info['until_resolved'] else ''}; seed {info['seed']} "
             f"(run <i>i</i> has seed {info['seed']} + <i>i</i>); issim {_e(info['version'])}.</p>"]
    if s["total"]:
        parts.append(_bars("classes", [r["class"] for r in s["classes"]], s["classes"], "Ending classes",
                           "share of runs, % (bars: 95 % Wilson interval)"))
        parts.append(_table(["class", "runs", "share [95 % CI]", "what it means"],
                            [[r["class"], r["runs"], f"{_pct(r['share'])} [{_pct(r['ci95'][0])}, {_pct(r['ci95'][1])}]",
                              r["label"]] for r in s["classes"]]))
        parts.append(_bars("survival", [r["person"] for r in s["survival"]], s["survival"], "Survival",
                           "runs lived through (aboard or departed), %"))
        if s["beats"]:
            b = s["beats"]
            fig = {"data": [{"type": "scatter", "mode": "markers", "y": [r["beat"] for r in b],
                             "x": [r["median_h"] for r in b], "marker": {"color": "#b03a2e", "size": 9},
                             "error_x": {"type": "data", "symmetric": False,
                                         "array": [r["p90_h"] - r["median_h"] for r in b],
                                         "arrayminus": [r["median_h"] - r["p10_h"] for r in b]},
                             "hovertemplate": "%{y}: median %{x:.1f} h<extra></extra>"}],
                   "layout": {"title": {"text": "When each beat first comes"},
                              "xaxis": {"title": {"text": "hours after the start (median; 10th to 90th percentile)"}},
                              "yaxis": {"autorange": "reversed", "automargin": True}, "height": 120 + 24 * len(b),
                              "margin": {"l": 10, "r": 20, "t": 50, "b": 50}, "font": {"family": FONT, "size": 12},
                              "template": "plotly_white"}}
            parts.append(_figure("beats", fig))
            parts.append(_table(["beat", "runs [95 % CI]", "median h", "10 %", "90 %"],
                                [[r["beat"], f"{_pct(r['share'])} [{_pct(r['ci95'][0])}, {_pct(r['ci95'][1])}]",
                                  r["median_h"], r["p10_h"], r["p90_h"]] for r in b]))
        parts.append("<h2>Commonest story paths</h2>")
        parts.append(_table(["runs", "share [95 % CI]", "path"],
                            [[r["runs"], f"{_pct(r['share'])} [{_pct(r['ci95'][0])}, {_pct(r['ci95'][1])}]",
                              r["path"] or "(nothing happened)"] for r in s["paths"]]))
        for m in s["sensitivity"]:
            held = "" if m["accuracy_held_out"] is None else f", {_pct(m['accuracy_held_out'])} on runs held out"
            parts.append(f"<h2>What moves {_e(m['class'])} ({m['runs']} of {m['of']} runs)</h2>"
                         f"<p>A logistic regression on the dispersed inputs (a number's coefficient per standard "
                         f"deviation). Accuracy {_pct(m['accuracy'])} on the runs{held}; always guessing the "
                         f"commoner answer: {_pct(m['base_rate'])}.</p>")
            parts.append(_table(["input", "log-odds", "odds ratio"],
                                [[c["input"], f"{c['log_odds']:+.2f}", f"{c['odds_ratio']:.2f}"]
                                 for c in m["coefficients"]]))
    style = ("body{font-family:" + FONT + ";max-width:1000px;margin:2em auto;padding:0 1em;color:#1c2833}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:4px 8px;"
             "text-align:left;vertical-align:top}th{background:#f4f6f7}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Campaign {_e(name)}</title><style>{style}</style>"
            f"<script>{plotly_js()}</script></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
