#!/usr/bin/env bash
# Every GPU check in one script, for a machine with an NVIDIA GPU: install the CUDA build,
# train the demo, measure original / dfl-saehd-liae / stojo at batch 16 in bf16 with MFU, and
# (where bench/realswap.py and the real clips are present) a longer real-face run. Writes
# everything under OUT (default runs/gpu) and prints the report at the end.
#
#     bash bench/gpu.sh [OUT]           # PHAZE_GPU_STEPS, PHAZE_GPU_DEMO_ITERATIONS to tune
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/gpu}"
STEPS="${PHAZE_GPU_STEPS:-20}"
mkdir -p "$OUT"
REPORT="$OUT/report.md"

PHAZE_TORCH=cuda bash scripts/setup.sh 2>&1 | tee "$OUT/setup.log"
{
    echo "# Phaze on $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
    echo
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    .venv/bin/python -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'bf16', torch.cuda.is_bf16_supported())"
} > "$REPORT"

demo_start=$(date +%s)
.venv/bin/phaze train --demo --model-dir "$OUT/demo" --device cuda --no-tensorboard \
    ${PHAZE_GPU_DEMO_ITERATIONS:+--iterations "$PHAZE_GPU_DEMO_ITERATIONS"} \
    > "$OUT/demo.log" 2>&1
echo -e "\n## Demo\n\n$(tail -2 "$OUT/demo.log")\n\nwall $(( $(date +%s) - demo_start )) s" \
    >> "$REPORT"

echo -e "\n## Training step, batch 16, bf16\n" >> "$REPORT"
for compile in off on; do
    for preset in original dfl-saehd-liae stojo; do
        .venv/bin/python bench/throughput.py --device cuda --presets "$preset" \
            --batch-sizes 16 --precision bf16 --channels-last on --compile "$compile" \
            --steps "$STEPS" --loader-batches 0 \
            --json "$OUT/throughput-$preset-compile-$compile.json" \
            > "$OUT/throughput-$preset-compile-$compile.log" 2>&1 || true
    done
    echo -e "\ntorch.compile $compile:\n" >> "$REPORT"
    .venv/bin/python bench/mfu.py "$OUT"/throughput-*-compile-"$compile".json >> "$REPORT"
done

# The CPU default computes 4x4-output convolutions as matmuls; measured here on the GPU.
for matmul in on off; do
    .venv/bin/python bench/throughput.py --device cuda --presets original --batch-sizes 16 \
        --precision bf16 --channels-last on --small-convs-as-matmul "$matmul" \
        --steps "$STEPS" --loader-batches 0 \
        > "$OUT/throughput-original-matmul-$matmul.log" 2>&1 || true
    echo -e "\nsmall convs as matmul $matmul:\n\n$(grep -E '^original' \
        "$OUT/throughput-original-matmul-$matmul.log" | head -1)" >> "$REPORT"
done

# bfloat16 Adam moments (the CPU default) on the GPU: torch.compile's kernel there.
for moments in float32 bfloat16; do
    .venv/bin/python bench/throughput.py --device cuda --presets original --batch-sizes 16 \
        --precision bf16 --channels-last on --moments "$moments" \
        --steps "$STEPS" --loader-batches 0 \
        > "$OUT/throughput-original-moments-$moments.log" 2>&1 || true
    echo -e "\nAdam moments $moments:\n\n$(grep -E '^original' \
        "$OUT/throughput-original-moments-$moments.log" | head -1)" >> "$REPORT"
done

# Does the loader keep up with the GPU step? Samples/s per worker on this machine's CPUs.
.venv/bin/python bench/data_path.py --preset original --workers 0,4,8 \
    > "$OUT/data_path.log" 2>&1 || true
echo -e "\n## Data loader (bench/data_path.py)\n\n$(grep -E 'samples/s|^load' \
    "$OUT/data_path.log")" >> "$REPORT"

if [ -f bench/realswap.py ] && [ -d ../shared/realvideo ]; then
    clips=(../shared/realvideo/rt_face2_man_tie.mp4 ../shared/realvideo/rt_face4_woman_blue.mp4)
    .venv/bin/python bench/realswap.py "${clips[@]}" --preset original \
        --iterations "${PHAZE_GPU_REALSWAP_ITERATIONS:-3000}" --device cuda \
        --output-dir "$OUT/realswap" > "$OUT/realswap.log" 2>&1 || true
    echo -e "\n## Real faces (bench/realswap.py)\n\n$(tail -20 "$OUT/realswap.log")" >> "$REPORT"
fi
cat "$REPORT"
