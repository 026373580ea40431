#!/usr/bin/env python3
"""Writes a synthetic roundup corpus for benchmarks: N papers spread over files of
PER_FILE papers each, in the `## [Title](arxiv url)` + `*authors*` + summary layout, with
Chinese summaries mixing English terms (like the bundled corpus). Deterministic for a seed.

usage: make_synthetic_corpus.py OUT_DIR [--papers 100000] [--per-file 100] [--seed 1]"""
import argparse
import os
import random

EN = ("transformer diffusion language model retrieval benchmark dataset token attention sparse dense "
      "reinforcement learning policy reward agent robot planning vision image video audio speech music "
      "graph neural network convolution layer normalization optimizer gradient scaling law compute budget "
      "pretraining finetuning prompt instruction tuning alignment watermark privacy memorization distillation "
      "quantization pruning mixture experts routing inference latency throughput accelerator tpu gpu cluster "
      "embedding contrastive self-supervised zero-shot few-shot chain-of-thought reasoning math code synthesis "
      "segmentation detection tracking depth nerf rendering 3d point cloud simulation physics protein molecule "
      "weather forecasting recommendation ranking search question answering summarization translation dialogue").split()
ZH = ("模型 训练 数据 方法 性能 任务 语言 图像 生成 扩散 检索 推理 参数 规模 计算 网络 注意力 学习 强化 策略 "
      "奖励 机器人 视频 音频 语音 音乐 图神经 卷积 优化 梯度 预训练 微调 提示 指令 对齐 水印 隐私 记忆 蒸馏 量化 "
      "剪枝 专家 路由 延迟 吞吐量 加速器 嵌入 对比 自监督 零样本 少样本 思维链 数学 代码 分割 检测 跟踪 深度 渲染 "
      "点云 模拟 物理 蛋白质 分子 天气 预测 推荐 排序 搜索 问答 摘要 翻译 对话 基准 实验 结果 提出 证明 显著 提升").split()
FILLER = "本文 我们 这项 工作 一种 新的 通过 使用 可以 并且 其中 以及 表明 实现 相比 之前".split()
SURNAMES = "Smith Wang Li Zhang Chen Kumar Garcia Müller Rossi Tanaka Kim Nguyen Ivanov Silva Cohen".split()
GIVEN = "Alex Wei Yu Maria Jan Hiro Ana Omar Lena Ravi Sara Tom Yuki Igor Chen".split()


def make_vocabulary(rng, size):
    """Pseudo-words in Latin and Han script: a real corpus has a long tail of rare terms
    (names, methods, datasets) next to the common ML words, and questions usually name some."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "zen", "dra", "pli", "quo", "ster", "mun", "gal"]
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    words = set()
    while len(words) < size:
        if rng.random() < 0.6:
            words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
        else:
            words.add("".join(rng.choice(han) for _ in range(2)))
    return sorted(words)


def zipf_choice(rng, words):
    # Zipf-like: earlier words are more frequent.
    i = int(len(words) * (rng.random() ** 2.2))
    return words[min(i, len(words) - 1)]


def sentence(rng, tail):
    parts = []
    for _ in range(rng.randint(8, 18)):
        r = rng.random()
        parts.append(zipf_choice(rng, ZH) if r < 0.45 else zipf_choice(rng, EN) if r < 0.7
                     else rng.choice(tail) if r < 0.85 else rng.choice(FILLER))
    return "".join(p if any('\u4e00' <= c <= '\u9fff' for c in p) else f" {p} " for p in parts).strip() + "。"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--papers", type=int, default=100000)
    ap.add_argument("--per-file", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries-file", help="also write this many-line JSONL of benchmark queries")
    ap.add_argument("--queries", type=int, default=500)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    tail = make_vocabulary(rng, 50000)
    os.makedirs(a.out, exist_ok=True)
    samples = []  # (paper sentence) pairs to build benchmark questions from
    files = (a.papers + a.per_file - 1) // a.per_file
    n = 0
    for f in range(files):
        year, month = 2019 + (f // 12) % 6, f % 12 + 1
        lines = [f"# Synthetic roundup {f:05d} — {year} 年 {month} 月", ""]
        for _ in range(min(a.per_file, a.papers - n)):
            n += 1
            arxiv = f"{year % 100:02d}{month:02d}.{n % 100000:05d}"
            title = " ".join(zipf_choice(rng, EN).capitalize() for _ in range(rng.randint(3, 7))) + f" {n}"
            authors = ", ".join(f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}" for _ in range(rng.randint(1, 4)))
            lines += [f"## [{title}](https://arxiv.org/abs/{arxiv})", "", f"*{authors}*", ""]
            for _ in range(rng.randint(2, 4)):
                paragraph = [sentence(rng, tail) for _ in range(rng.randint(2, 4))]
                lines += ["".join(paragraph), ""]
                if rng.random() < 0.02:
                    samples.append(rng.choice(paragraph))
        with open(os.path.join(a.out, f"synthetic_{f:05d}.md"), "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
    print(f"wrote {n} papers in {files} files to {a.out}")
    if a.queries_file:
        import json
        with open(a.queries_file, "w", encoding="utf-8") as fh:
            # A question about one paper: a few words of one of its sentences, common and rare.
            for sample in rng.sample(samples, min(a.queries, len(samples))):
                words = sample.rstrip("。").split()
                pick = rng.sample(words, min(len(words), rng.randint(3, 6)))
                fh.write(json.dumps({"q": " ".join(pick)}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
