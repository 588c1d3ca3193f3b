#!/usr/bin/env bash
# README quick start 1: install what sbench needs, build it, and run the main job: the end-to-end
# demo on embedded synthetic data (synth -> prepare -> train -> predict -> eval -> HTML report).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
./build/sbench doctor
./build/sbench demo --out build/demo
