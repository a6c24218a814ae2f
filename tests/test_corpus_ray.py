"""The Ray engine on a local Ray cluster (2 CPUs, 2 encoder actors), started once per module."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import ray  # the dev extra installs ray[data]; never skipped

from specter_desk.corpus import embed_corpus, iter_shards, read_corpus, read_manifest
from specter_desk.errors import CorpusError

FIXTURE = Path(__file__).parent / "fixtures" / "corpus" / "specter_sample.jsonl"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray for the module; shut down afterwards so no Ray process outlives the tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def cosines(out: Path, reference: tuple[list[str], np.ndarray]) -> np.ndarray:
    keys, blocks = [], []
    for shard in iter_shards(out):
        keys += shard.keys
        blocks.append(shard.vectors)
    vectors = np.vstack(blocks)
    assert keys == reference[0]
    ref = reference[1]
    return (vectors * ref).sum(1) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(ref, axis=1))


def single_process(spec) -> tuple[list[str], np.ndarray]:
    """The single-process path: every paper embedded in one Encoder call in this process."""
    from specter_desk.embed.encoder import Encoder

    papers = list(read_corpus(FIXTURE, library="x"))
    return [p.key for p in papers], Encoder(spec, device="cpu").encode_papers(papers)


@pytest.mark.slow
def test_ray_actors_give_the_same_minilm_vectors_as_one_process(tmp_path):
    from specter_desk.embed.registry import get_model

    out = tmp_path / "out"
    run = embed_corpus(FIXTURE, out, model="minilm", engine="ray", shard_size=10)
    assert run.complete and (run.papers, run.shards, run.dim) == (60, 6, 384)
    assert run.engine_info == {"cluster_cpus": 2, "cluster_gpus": 0, "actors": 2, "device": "cpu"}
    assert len({w.split(":")[1] for w in run.workers}) == 2  # two actor processes did the work
    assert os.getpid() not in {int(w.split(":")[1]) for w in run.workers}
    assert cosines(out, single_process(get_model("minilm"))).min() >= 0.999


@pytest.mark.slow
@pytest.mark.timeout(900)  # a stalled first run takes stall_timeout on a busy machine
def test_ray_run_resumes_after_an_actor_is_killed(tmp_path, tiny_model):
    """SIGKILL an actor after 2 shards with no restarts: the run fails and keeps its shards;
    the re-run skips them, and (with Ray Data's restarts) survives another killed actor."""
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_an_actor(result):  # result.worker is host:pid:device of the actor that wrote it
        if len(killed) == 0 and len(list(out.glob("shard-*.json"))) >= 2:
            killed.append(int(result.worker.split(":")[1]))
        elif len(killed) == 1 and result.shard not in done_before:
            killed.append(int(result.worker.split(":")[1]))  # once in the re-run
        else:
            return
        assert killed[-1] != os.getpid()
        os.kill(killed[-1], signal.SIGKILL)

    done_before: set[int] = set()
    with pytest.raises(CorpusError, match="run the same command again to resume"):
        embed_corpus(
            FIXTURE,
            out,
            model="tiny",
            engine="ray",
            shard_size=5,
            max_restarts=0,
            # on a busy machine Ray Data can wait for the dead actor instead of failing at
            # once; its no-progress guard then fails the run (the default would take 30 min)
            stall_timeout=180,
            on_shard=kill_an_actor,
        )
    manifest = read_manifest(out)
    done_before |= {s["shard"] for s in manifest["shards"] if s["state"] == "done"}
    # every shard the manifest counts is on disk; a file beyond them (an actor that wrote it
    # and died, or was killed, before the driver heard back) is not trusted: the re-run redoes it
    assert done_before <= {int(p.stem.split("-")[1]) for p in out.glob("shard-*.json")}
    assert 2 <= len(done_before) < 12 and not manifest["complete"]
    written: list[int] = []

    def record(result):
        written.append(result.shard)
        kill_an_actor(result)

    run = embed_corpus(FIXTURE, out, model="tiny", engine="ray", shard_size=5, on_shard=record)
    assert len(killed) == 2  # one actor killed in each run
    assert run.complete and run.shards_skipped == len(done_before)
    assert sorted(written) == sorted(set(range(12)) - done_before)
    assert cosines(out, single_process(tiny_model)).min() >= 0.999


@pytest.mark.slow
def test_ray_actor_errors_reach_the_user_as_themselves(tmp_path):
    """A model missing on the cluster is the same one-line ModelNotFoundError as locally."""
    from specter_desk.embed.registry import MODELS, ModelSpec, register_model
    from specter_desk.errors import ModelNotFoundError

    register_model(ModelSpec(name="absent", hub_id="example/absent-model", description=""))
    try:
        with pytest.raises(ModelNotFoundError, match="not on disk"):
            embed_corpus(FIXTURE, tmp_path / "out", model="absent", engine="ray", shard_size=30)
    finally:
        MODELS.pop("absent")
