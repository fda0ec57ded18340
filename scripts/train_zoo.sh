#!/bin/sh
# The recipe of the shipped zoo in trained/: one command retrains all fifteen models.
#
#   sh scripts/train_zoo.sh [all|dense|vae|conv_ae|gan|ddsp_vae|ddsp_cvae]      (or: make zoo)
#
# Data: every drum one-shot of Debian's hydrogen-drumkits + hydrogen-data, preprocessed at the
# defaults (22050 Hz, 16384 samples, attack 0.01 s); the dataset's fixed split holds out whole
# kits for validation (listed in each model card). Set DATA to reuse a dataset folder and OUT
# to train somewhere other than trained/. The widths are for 2 CPU cores (measured on a shared,
# loaded machine): conv_ae at width 16 stopped after 30 epochs in 9 minutes, the GAN at width 8
# took about an hour for 45 epochs. On a GPU use WaveGAN's width, 64 (--width 64), and many more
# GAN epochs (WaveGAN trains for ~100k generator steps; 45 epochs here are ~1,000).
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-data/kits}
OUT=${OUT:-trained}
KITS=${KITS:-/usr/share/hydrogen/data/drumkits}
DATA44=${DATA44:-data/kits44}
what=${1:-all}

if [ ! -f "$DATA/manifest.csv" ]; then
    [ -d "$KITS" ] || { echo "no kits at $KITS: apt-get install hydrogen-drumkits hydrogen-data" >&2; exit 1; }
    "$PY" app.py preprocess "$KITS" -o "$DATA"
fi

train() { "$PY" app.py train "$@" --data "$DATA" --out "$OUT" --seed 0 --float16 --verbose 2; }

# Dense AEs: to convergence (validation loss not better by 1e-4 for 8 epochs), at most 150,
# on the default loss, spectral_floored (models/losses.py). ae_small_relu and ae_big_tanh
# reconstructed the held-out kits a little worse on it (1.425 vs 1.415, 1.355 vs 1.348), so
# the shipped ones are those trained on the earlier loss, spectral.
dense() {
    for size in small medium big; do
        for act in relu tanh sigmoid; do
            case "ae_${size}_${act}" in
                ae_small_relu|ae_big_tanh) loss=spectral ;;
                *) loss=spectral_floored ;;
            esac
            train "ae_${size}_${act}" --epochs 150 --patience 8 --min-delta 1e-4 --loss "$loss"
        done
    done
}
# VAEs: the seed's 30,000-batch KL ramp is ~1,300 epochs here; the ramp is scaled to
# 700 batches (about 30 epochs of 23 batches), so the full KL weight acts for the last half.
vae() {
    for name in vae_a vae_b vae_c; do
        train "$name" --epochs 100 --patience 8 --min-delta 1e-4 --kl-ramp 700 --width 8
    done
}
conv_ae() { train conv_ae --epochs 40 --patience 8 --min-delta 1e-4 --width 16; }
gan() { train gan --epochs 45 --width 8; }
# ddsp_vae: its defaults (models/registry.py: KL 0.01 ramped over 600 batches, Adam 5e-4, MR-STFT
# with a 4096-point FFT and no waveform term); batches of 16, 46 per epoch, about 45 s an epoch
# on 2 loaded cores. The shipped one ran 25 epochs, then --resume to 55 and to 66 (43 minutes).
ddsp_vae() { train ddsp_vae --epochs 66 --batch-size 16; }
# ddsp_cvae: the same kits prepared again at 44.1 kHz (32768 samples); stage 1 (the synth
# autoencoder) trains until the held-out kits' loss has not improved by 0.002 for 12 epochs, at
# most 140 (about 20 s an epoch on 2 idle cores with the targets' spectrograms computed once);
# stage 2 (a Gaussian per family over its codes) is fitted from its codes.npz when it loads.
ddsp_cvae() {
    if [ ! -f "$DATA44/manifest.csv" ]; then
        "$PY" app.py preprocess "$KITS" -o "$DATA44" --sr 44100 --length 32768
    fi
    "$PY" app.py train ddsp_cvae --data "$DATA44" --out "$OUT" --seed 0 --float16 --verbose 2 \
        --epochs 140 --batch-size 16 --patience 12 --min-delta 0.002
}

case "$what" in
    all) dense; vae; conv_ae; gan; ddsp_vae; ddsp_cvae ;;
    dense|vae|conv_ae|gan|ddsp_vae|ddsp_cvae) "$what" ;;
    *) echo "usage: $0 [all|dense|vae|conv_ae|gan|ddsp_vae|ddsp_cvae]" >&2; exit 2 ;;
esac
