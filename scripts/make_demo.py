#!/usr/bin/env python3
"""Writes public/demo/examples.jsonl: the demo's labelled sentences, written for this project.
Markup `[text](type)` becomes a character-offset span. Run: python3 scripts/make_demo.py"""
import json, re

SENTENCES = """
[Maria Lopez](person) joined [Northwind Labs](organization) in [Lisbon](location) last spring.
The [city council of Oslo](organization) met [Erik Hansen](person) on Monday.
[Kenji Watanabe](person) flew from [Osaka](location) to [Vancouver](location) for a conference.
[Greenfield Bank](organization) opened a new branch in [Nairobi](location).
[Amara Okafor](person) and [Lucas Meyer](person) founded [Bluepeak Robotics](organization).
Heavy rain closed the roads between [Cusco](location) and [Puno](location).
[Sofia Rossi](person) now leads research at [Helix Biotech](organization) in [Milan](location).
The [Red Cross](organization) sent volunteers to [Valparaíso](location) after the fire.
[Dr. Priya Nair](person) presented the results in [Bengaluru](location).
Shares of [Orbital Freight](organization) rose after the [Singapore](location) deal.
[Tomás Herrera](person) grew up near [Lake Titicaca](location) and studied in [La Paz](location).
[Café Aurora](organization) in [Reykjavík](location) hired [Jón Sigurðsson](person) as head chef.
[Zhang Wei](person) spoke for [Jade River Software](organization) at the [Shanghai](location) summit.
The museum in [Kraków](location) welcomed [Anna Kowalska](person) as its new director.
[Harbor Line Ferries](organization) resumed service from [Tallinn](location) to [Helsinki](location).
[Olivia Brown](person) reported from [Cape Town](location) for [Morning Wire](organization).
[Mehmet Yılmaz](person) sold his firm to [Anatolia Textiles](organization) in [Izmir](location).
Tourists crowded the old town of [Dubrovnik](location) all summer.
[Nadia Haddad](person) teaches chemistry at the [University of Beirut](organization).
The [World Water Forum](organization) will gather in [Dakar](location) next year.
[Carlos Mendes](person) drove from [Porto](location) to [Madrid](location) in one day.
[Polar Stream Energy](organization) built a wind farm off [Aberdeen](location).
[Isabelle Martin](person) and her team at [Lumen Studio](organization) won the award.
Flights to [Manila](location) were delayed by the storm, said [Rafael Cruz](person).
[Ingrid Berg](person) left [Nordic Mobile](organization) to start a bakery in [Bergen](location).
The festival in [Edinburgh](location) drew writers such as [Chidi Obi](person).
[Silverleaf Insurance](organization) moved its headquarters from [Dublin](location) to [Cork](location).
[Hannah Fischer](person) trained for the marathon in [Munich](location).
"""

with open("public/demo/examples.jsonl", "w", encoding="utf-8") as out:
    for line in SENTENCES.strip().splitlines():
        text, spans, pos = "", [], 0
        for m in re.finditer(r"\[([^\]]+)\]\(([a-z]+)\)", line):
            text += line[pos:m.start()]
            start = len(text)
            text += m.group(1)
            spans.append({"start": start, "end": len(text), "label": m.group(2)})
            pos = m.end()
        text += line[pos:]
        out.write(json.dumps({"text": text, "spans": spans}, ensure_ascii=False) + "\n")
