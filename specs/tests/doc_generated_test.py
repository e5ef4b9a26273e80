#!/usr/bin/env python3
"""Every rule docs/language.md says a policy "generates" is in what `acctc compile` emits for it.

    doc_generated_test.py ACCTC SOURCE_DIR

A policy block followed by a "generates" paragraph and a block: each rule line of that block
(not the elided `…` lines, chain headers or condensed declarations) must be a line of the
compiled ruleset, rule comments left out as the page leaves them out. Blocks that are
fragments (`...`, aliases defined elsewhere) do not compile alone and are skipped.
"""
import re
import subprocess
import sys

acctc, source_dir = sys.argv[1], sys.argv[2]
lines = open(f"{source_dir}/docs/language.md", encoding="utf-8").read().split("\n")
blocks = []
i = 0
while i < len(lines):
    if lines[i].startswith("```"):
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        blocks.append((i + 1, j, lines[i + 1 : j]))
        i = j + 1
    else:
        i += 1

failures = checked = 0
skipped = ("chain ", "table ", "quota ", "set ", "#", "-A", "}", "...", "and ")
for (start, end, policy), (_, _, generated) in zip(blocks, blocks[1:]):
    following = lines[end + 1 : end + 4]
    if not any(line.startswith("generates") for line in following):
        continue
    text = "\n".join(policy if any(l.startswith("policy") for l in policy) else ["policy doc"] + policy)
    result = subprocess.run([acctc, "compile", "--etc", f"{source_dir}/specs/etc", "/dev/stdin"],
                            input=text + "\n", capture_output=True, text=True)
    if result.returncode != 0:
        continue
    emitted = {re.sub(r' comment "[^"]*"$', "", l.strip()) for l in result.stdout.split("\n")}
    checked += 1
    for line in generated:
        rule = line.strip()
        if not rule or "…" in rule or rule.startswith(skipped):
            continue
        if rule not in emitted:
            print(f"FAIL: docs/language.md:{start}: the policy does not generate: {rule}")
            failures += 1
print(f"{checked} documented examples compiled, {failures} rules missing")
sys.exit(1 if failures or checked < 20 else 0)
