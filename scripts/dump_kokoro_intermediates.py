#!/usr/bin/env python3
"""Stage-by-stage intermediates of the Kokoro-82M reference (ONNX Runtime, kokoro-onnx int8 export).

For whoever ports the network: the same run as scripts/golden_kokoro.py, with the main internal
tensors added as graph outputs, saved to one .npz (not committed; about 20 MB per second of audio):

    bash scripts/kokoro-reference-venv.sh
    .venv-kokoro/bin/python scripts/dump_kokoro_intermediates.py /tmp/kokoro-debug.npz
    .venv-kokoro/bin/python scripts/dump_kokoro_intermediates.py OUT.npz --sentence 2 --speed 1.3
    .venv-kokoro/bin/python scripts/dump_kokoro_intermediates.py OUT.npz --phonemes "hˈɛlO wˈɜɹld."

Inputs default to sentence 0 of golden/kokoro/sentences.tsv, voice jf_alpha, speed 1.0. The file
also holds the inputs (`tokens`, `style`, `speed`). Keys are named after the PyTorch module paths
of hexgrad/kokoro (kokoro/model.py KModel.forward_with_tokens, modules.py, istftnet.py); the
script prints the actual shapes. T = n + 2 tokens, F = frames = sum(durations), L = 600 F samples.

| key | ONNX value | shape | PyTorch |
|---|---|---|---|
| bert | .../full_layer_layer_norm_11/LayerNormalization_output_0 | [1,T,768] | bert_dur = self.bert(input_ids, attention_mask) |
| bert_encoder | /encoder/bert_encoder/Add_output_0 | [1,T,512] | self.bert_encoder(bert_dur) (d_en before its transpose) |
| predictor.text_encoder | /encoder/predictor/text_encoder/Concat_4_output_0 | [1,T,640] | d = self.predictor.text_encoder(d_en, s, ...) |
| predictor.lstm | /encoder/predictor/lstm/Transpose_2_output_0 | [1,T,512] | x, _ = self.predictor.lstm(d) |
| predictor.duration_proj | /encoder/predictor/duration_proj/linear_layer/Add_output_0 | [1,T,50] | duration logits |
| duration | /encoder/Div_output_0 | [1,T] | torch.sigmoid(duration).sum(-1) / speed |
| pred_dur | /encoder/Cast_output_0 | [1,T] int64 | torch.round(duration).clamp(min=1).long() |
| pred_aln_trg | /encoder/Cast_4_output_0 | [T,F] | the 0/1 alignment matrix |
| en | /encoder/MatMul_output_0 | [1,640,F] | en = d.transpose(-1, -2) @ pred_aln_trg |
| predictor.shared | /encoder/Transpose_2_output_0 | [1,512,F] | x, _ = self.shared(en.transpose(-1, -2)) (transposed back) |
| predictor.F0.0 / .1 / .2 | /encoder/F0.0/Div_2, F0.1/Div_4, F0.2/Div_2 _output_0 | [1,512,F], [1,256,2F], [1,256,2F] | AdainResBlk1d outputs |
| predictor.N.0 / .1 / .2 | /encoder/N.{0,1,2}/Div_{2,4,2}_output_0 | same | |
| predictor.F0_proj | /encoder/Squeeze_output_0 | [1,2F] | F0_pred |
| predictor.N_proj | /encoder/Squeeze_1_output_0 | [1,2F] | N_pred |
| text_encoder | /encoder/text_encoder/Transpose_2_output_0 | [1,512,T] | t_en = self.text_encoder(input_ids, ...) |
| asr | /encoder/MatMul_1_output_0 | [1,512,F] | asr = t_en @ pred_aln_trg |
| decoder.F0_conv | /decoder/decoder/F0_conv/Conv_output_0 | [1,1,F] | F0 after its stride-2 conv |
| decoder.N_conv | /decoder/decoder/N_conv/Conv_output_0 | [1,1,F] | N after its stride-2 conv |
| decoder.asr_res | /decoder/decoder/asr_res/asr_res.0/Conv_output_0 | [1,64,F] | |
| decoder.encode | /decoder/decoder/encode/Div_3_output_0 | [1,1024,F] | |
| decoder.decode.0 .. .2 | /decoder/decoder/decode.{i}/Div_3_output_0 | [1,1024,F] | |
| decoder.decode.3 | /decoder/decoder/decode.3/Div_4_output_0 | [1,512,2F] | generator input x |
| decoder.generator.f0_upsamp | /decoder/decoder/generator/f0_upsamp/Resize_output_0 | [1,1,L] | f0 (Hz) at 24 kHz (nearest, x300) |
| decoder.generator.m_source.l_sin_gen.uv | /decoder/decoder/generator/m_source/l_sin_gen/Cast_output_0 | [1,L,1] | uv = f0 > 10 |
| decoder.generator.m_source.l_sin_gen | /decoder/decoder/generator/m_source/l_sin_gen/Mul_6_output_0 | [1,L,9] | sine_waves * uv (no noise in the export) |
| decoder.generator.m_source | /decoder/decoder/generator/m_source/l_tanh/Tanh_output_0 | [1,L,1] | har_source = tanh(l_linear(sines)) |
| decoder.generator.stft | /decoder/decoder/generator/Concat_3_output_0 | [1,22,120F+1] | har = cat(|STFT|, angle(STFT)) of har_source |
| decoder.generator.noise_convs.0 / .1 | /decoder/decoder/generator/noise_convs.{i}/Conv_output_0 | [1,256,20F], [1,128,120F+1] | |
| decoder.generator.noise_res.0 / .1 | /decoder/decoder/generator/noise_res.{i}/Add_8_output_0 | same | x_source |
| decoder.generator.ups.0 | /decoder/decoder/generator/ups.0/ConvTranspose_output_0 | [1,256,20F] | |
| decoder.generator.resblocks.0-2 | /decoder/decoder/generator/Div_2_output_0 | [1,256,20F] | mean of resblocks 0..2 on x + x_source |
| decoder.generator.ups.1 | /decoder/decoder/generator/ups.1/ConvTranspose_output_0 | [1,128,120F] | |
| decoder.generator.reflection_pad | /decoder/decoder/generator/reflection_pad/Pad_output_0 | [1,128,120F+1] | ReflectionPad1d((1, 0)) |
| decoder.generator.resblocks.3-5 | /decoder/decoder/generator/Div_4_output_0 | [1,128,120F+1] | mean of resblocks 3..5 |
| decoder.generator.conv_post | /decoder/decoder/generator/conv_post/Conv_output_0 | [1,22,120F+1] | before exp/sin |
| decoder.generator.spec | /decoder/decoder/generator/Exp_output_0 | [1,11,120F+1] | exp(conv_post[:, :11]) |
| decoder.generator.phase | /decoder/decoder/generator/Sin_output_0 | [1,11,120F+1] | sin(conv_post[:, 11:]) |
| decoder.generator.stft.inverse.overlap_add | /decoder/decoder/generator/istft/stft/ConvTranspose_output_0 | [1,1,L+20] | inverse STFT before window-sum division, x4, trim |
| audio | audio | [L] | the waveform |

Caveat: this is the int8 model, and ORT quantises activations at run time (DynamicQuantizeLinear
before each MatMulInteger/ConvInteger/DynamicQuantizeLSTM; the bias is quantised with Floor). These
are the reference's values, not those of the float PyTorch model: a float port matches them to
quantisation noise (typically 1e-2 relative), and errors grow along the stages. Compare stage by stage
feeding the reference's own inputs to each stage (e.g. use the golden durations/F0/N).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden_kokoro as gk  # noqa: E402

ALBERT_OUT = ("/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/full_layer_layer_norm_11/"
              "LayerNormalization_output_0")
G = "/decoder/decoder/generator"
INTERMEDIATES = {
    "bert": ALBERT_OUT,
    "bert_encoder": "/encoder/bert_encoder/Add_output_0",
    "predictor.text_encoder": "/encoder/predictor/text_encoder/Concat_4_output_0",
    "predictor.lstm": "/encoder/predictor/lstm/Transpose_2_output_0",
    "predictor.duration_proj": "/encoder/predictor/duration_proj/linear_layer/Add_output_0",
    "duration": "/encoder/Div_output_0",
    "pred_dur": "/encoder/Cast_output_0",
    "pred_aln_trg": "/encoder/Cast_4_output_0",
    "en": "/encoder/MatMul_output_0",
    "predictor.shared": "/encoder/Transpose_2_output_0",
    "predictor.F0.0": "/encoder/F0.0/Div_2_output_0",
    "predictor.F0.1": "/encoder/F0.1/Div_4_output_0",
    "predictor.F0.2": "/encoder/F0.2/Div_2_output_0",
    "predictor.N.0": "/encoder/N.0/Div_2_output_0",
    "predictor.N.1": "/encoder/N.1/Div_4_output_0",
    "predictor.N.2": "/encoder/N.2/Div_2_output_0",
    "predictor.F0_proj": "/encoder/Squeeze_output_0",
    "predictor.N_proj": "/encoder/Squeeze_1_output_0",
    "text_encoder": "/encoder/text_encoder/Transpose_2_output_0",
    "asr": "/encoder/MatMul_1_output_0",
    "decoder.F0_conv": "/decoder/decoder/F0_conv/Conv_output_0",
    "decoder.N_conv": "/decoder/decoder/N_conv/Conv_output_0",
    "decoder.asr_res": "/decoder/decoder/asr_res/asr_res.0/Conv_output_0",
    "decoder.encode": "/decoder/decoder/encode/Div_3_output_0",
    "decoder.decode.0": "/decoder/decoder/decode.0/Div_3_output_0",
    "decoder.decode.1": "/decoder/decoder/decode.1/Div_3_output_0",
    "decoder.decode.2": "/decoder/decoder/decode.2/Div_3_output_0",
    "decoder.decode.3": "/decoder/decoder/decode.3/Div_4_output_0",
    "decoder.generator.f0_upsamp": f"{G}/f0_upsamp/Resize_output_0",
    "decoder.generator.m_source.l_sin_gen.uv": f"{G}/m_source/l_sin_gen/Cast_output_0",
    "decoder.generator.m_source.l_sin_gen": f"{G}/m_source/l_sin_gen/Mul_6_output_0",
    "decoder.generator.m_source": f"{G}/m_source/l_tanh/Tanh_output_0",
    "decoder.generator.stft": f"{G}/Concat_3_output_0",
    "decoder.generator.noise_convs.0": f"{G}/noise_convs.0/Conv_output_0",
    "decoder.generator.noise_res.0": f"{G}/noise_res.0/Add_8_output_0",
    "decoder.generator.ups.0": f"{G}/ups.0/ConvTranspose_output_0",
    "decoder.generator.resblocks.0-2": f"{G}/Div_2_output_0",
    "decoder.generator.noise_convs.1": f"{G}/noise_convs.1/Conv_output_0",
    "decoder.generator.noise_res.1": f"{G}/noise_res.1/Add_8_output_0",
    "decoder.generator.ups.1": f"{G}/ups.1/ConvTranspose_output_0",
    "decoder.generator.reflection_pad": f"{G}/reflection_pad/Pad_output_0",
    "decoder.generator.resblocks.3-5": f"{G}/Div_4_output_0",
    "decoder.generator.conv_post": f"{G}/conv_post/Conv_output_0",
    "decoder.generator.spec": f"{G}/Exp_output_0",
    "decoder.generator.phase": f"{G}/Sin_output_0",
    "decoder.generator.stft.inverse.overlap_add": f"{G}/istft/stft/ConvTranspose_output_0",
    "audio": "audio",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out", type=Path, help="the .npz to write (e.g. /tmp/kokoro-debug.npz)")
    ap.add_argument("--sentences", type=Path, default=gk.DEFAULT_OUT / "sentences.tsv")
    ap.add_argument("--sentence", type=int, default=0, help="line of --sentences (0-based)")
    ap.add_argument("--phonemes", help="a phoneme string instead of --sentence")
    ap.add_argument("--voice", default=gk.VOICE)
    ap.add_argument("--speed", type=float, default=gk.SPEED)
    args = ap.parse_args()

    if args.phonemes:
        phonemes = args.phonemes
    else:
        phonemes = gk.read_sentences(args.sentences)[args.sentence][1]
    vocab = gk.load_vocab()
    ids = gk.encode(phonemes, vocab)
    feeds = gk.model_inputs(ids, gk.load_voice(args.voice), args.speed)
    names = list(INTERMEDIATES.values())
    session = gk.make_session(gk.with_outputs(gk.model_bytes(), names), threads=1)
    values = session.run(names, feeds)

    arrays = {"tokens": feeds["tokens"], "style": feeds["style"], "speed": feeds["speed"]}
    width = max(map(len, INTERMEDIATES))
    for (key, name), value in zip(INTERMEDIATES.items(), values):
        arrays[key] = value
        print(f"{key:<{width}}  {str(list(value.shape)):<16} {value.dtype}  {name}")
    frames = int(arrays["pred_dur"].sum())
    assert arrays["audio"].size == gk.SAMPLES_PER_FRAME * frames, (arrays["audio"].shape, frames)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **arrays)
    print(f"{args.out}: {args.out.stat().st_size} bytes; {len(ids)} phonemes, {frames} frames, "
          f"{arrays['audio'].size} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
