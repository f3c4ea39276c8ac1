#!/usr/bin/env python3
# Rebuilds calibration.txt from Debian packages (see README.md): public-domain KJV books via `bible` (bible-kjv, bible-kjv-text)
# and Tang/Song poems from fortunes-zh. Lines that occur in an optional held-out file are dropped, so calibration never sees test text.
import re, subprocess, sys

EXCLUDE = set()
if len(sys.argv) > 1:
    EXCLUDE = {l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()}

BOOKS = [("Ecclesiastes", 12), ("Ruth", 4), ("Esther", 10), ("Jonah", 4), ("Daniel", 12), ("Song of Solomon", 8),
         ("Matthew", 28), ("Acts", 28)]
out = []
for book, chapters in BOOKS:
    for ch in range(1, chapters + 1):
        text = subprocess.run(["bible", "-f", f"{book} {ch}:1-{ch}:200"], input="", capture_output=True, text=True).stdout
        verses = []
        for line in text.splitlines():
            m = re.match(r"^\S+?(\d+):(\d+) (.*)$", line)
            if m and int(m.group(1)) == ch:
                verse = f"{m.group(2)} {m.group(3).strip()}"
                if verse not in EXCLUDE: verses.append(verse)
        if verses: out.append(f"{book} {ch}\n" + "\n".join(verses))

ansi = re.compile(r"\x1b\[[0-9;]*m")
for name in ["tang300", "song100"]:
    for entry in open(f"/usr/share/games/fortunes/{name}", encoding="utf-8").read().split("\n%\n"):
        lines = [ansi.sub("", l).strip() for l in entry.strip().splitlines()]
        lines = [l for l in lines if l and l not in EXCLUDE]
        if len(lines) > 2: out.append("\n".join(lines))

# Interleave English chapters and poems so any prefix of the file mixes both languages.
en = [b for b in out if b[0].isascii()]
zh = [b for b in out if not b[0].isascii()]
mixed = []
for i in range(max(len(en), len(zh))):
    if i < len(en): mixed.append(en[i])
    if i < len(zh): mixed.append(zh[i])
open("calibration.txt", "w", encoding="utf-8").write("\n".join(mixed) + "\n")
