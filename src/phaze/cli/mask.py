"""`phaze mask train|apply`: the occlusion segmenter each user trains on their own faces."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mask", help="train and apply the occlusion mask segmenter (no downloads)",
        description="A small segmenter that learns, from your own faces, which pixels are "
                    "visible face and which are a hand, hair, glasses or an object in front of "
                    "it. See docs/masks.md.")
    actions = parser.add_subparsers(dest="mask_command", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train", help="train (or continue) a segmenter on face folders",
        description="Self-supervised: the target is each face's extended landmark mask minus "
                    "synthetic occluders pasted on it; masks drawn in the UI (masks/"
                    "hand_drawn.json) are used as real labels, weighted up. Faces listed in "
                    "<faces>/excluded.json are skipped.")
    train.add_argument("--faces", required=True, nargs="+", metavar="DIR",
                       help="face folders from `phaze extract` (with landmarks)")
    train.add_argument("--model-dir", required=True, help="mask model folder (created/continued)")
    train.add_argument("--steps", type=int, default=800, help="training steps (800)")
    train.add_argument("--batch-size", type=int, default=16, help="faces per step (16)")
    train.add_argument("--size", type=int, default=128, help="input side in px (128)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--apply", action="store_true",
                       help="then write the new masks into each face folder's masks/")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(func=run_train)
    apply = actions.add_parser(
        "apply", help="write a mask for every face of a folder into its masks/",
        description="Predicts <faces>/masks/<stem>.png for every face image; masks a person "
                    "drew (listed in masks/hand_drawn.json) are never overwritten.")
    apply.add_argument("--model-dir", required=True, help="a mask model folder")
    apply.add_argument("--faces", required=True, nargs="+", metavar="DIR", help="face folders")
    apply.add_argument("--device", default="cpu", help="cpu, cuda or cuda:<index> (cpu)")
    apply.add_argument("--batch-size", type=int, default=32, help="faces per batch (32)")
    apply.set_defaults(func=run_apply)


def run_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from phaze.masks.dataset import load_mask_faces
    from phaze.masks.network import SegmenterConfig
    from phaze.masks.training import MaskTrainConfig, StepReport, train_segmenter

    network = SegmenterConfig(size_px=args.size)
    config = MaskTrainConfig(steps=args.steps, batch_size=args.batch_size, seed=args.seed)
    faces = load_mask_faces(args.faces, network.size_px)
    drawn = sum(face.hand_drawn for face in faces)
    print(f"mask training on {len(faces)} faces ({drawn} hand-drawn masks)", flush=True)
    bar = tqdm(total=config.steps, unit="step", desc="mask train", disable=args.no_progress)

    def progress(report: StepReport) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{report.loss:.3f}", faces_s=f"{report.faces_per_sec:.1f}")
        if args.no_progress and (report.step % 50 == 0 or report.step == report.steps):
            print(f"step {report.step}/{report.steps} loss {report.loss:.4f} "
                  f"({report.faces_per_sec:.1f} faces/s)", flush=True)

    try:
        info = train_segmenter(faces, args.model_dir, network, config, progress)
    finally:
        bar.close()
    print(f"mask model saved to {args.model_dir} ({info.trained_steps} steps in all)",
          flush=True)
    if args.apply:
        args.device, args.batch_size = "cpu", 32
        return run_apply(args)
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from phaze.masks.predict import apply_to_folder

    for folder in args.faces:
        report = apply_to_folder(args.model_dir, folder, args.device, args.batch_size)
        print(f"{folder}: {report.written} masks written to masks/, {report.kept_hand_drawn} "
              f"hand-drawn kept, {report.unreadable} unreadable", flush=True)
    return 0
