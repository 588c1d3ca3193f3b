#!/usr/bin/env bash
# README quick start 1: install what sbench needs, build it, and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
./build/sbench tasks
./build/sbench doctor
