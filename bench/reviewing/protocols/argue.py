"""``critique``, ``consultancy`` and ``debate``: strong models argue, the weak judge decides."""

from __future__ import annotations

from bench.reviewing.protocols import Episode, ProtocolError, ProtocolReviewer, side_for


class CritiqueReviewer(ProtocolReviewer):
    """A strong critic writes a critique; the weak judge reads candidate + critique and reviews."""

    name = "critique"

    def run(self, episodes: list[Episode]) -> None:
        assert self.strong is not None
        b = self.budgets
        self.ask(self.strong, episodes, "critic", lambda e: self.prompts["critic"].render(*self.code_view(e)),
                 b.strong_max_new_tokens)
        replies = self.ask(self.judge, episodes, "judge", lambda e: self.prompts["judge_final"].render(
            *self.code_view(e), e.shown(b.transcript_chars), "critique"), b.judge_max_new_tokens,
            schema=self.schema)
        for ep, text in zip(episodes, replies):
            self.finish(ep, text)


class ConsultancyReviewer(ProtocolReviewer):
    """One strong consultant argues an assigned side for R rounds; the judge questions it, then decides."""

    name = "consultancy"

    def new_episode(self, request: object) -> Episode:
        ep = super().new_episode(request)  # type: ignore[arg-type]
        ep.side = side_for(ep.request.candidate_id, self.generate.seed)
        return ep

    def run(self, episodes: list[Episode]) -> None:
        assert self.strong is not None
        b = self.budgets
        for r in range(1, b.rounds + 1):
            self.ask(self.strong, episodes, lambda e: f"consultant ({e.side})",
                     lambda e, r=r: self.prompts["debater"].render(*self.code_view(e), e.side,  # type: ignore[misc]
                                                                    e.shown(b.transcript_chars), str(r), str(b.rounds)),
                     b.strong_max_new_tokens)
            if r < b.rounds:
                self.ask(self.judge, episodes, "judge question", lambda e: self.prompts["judge_question"].render(
                    *self.code_view(e), e.shown(b.transcript_chars)), b.judge_max_new_tokens)
        replies = self.ask(self.judge, episodes, "judge", lambda e: self.prompts["judge_final"].render(
            *self.code_view(e), e.shown(b.transcript_chars), "consultancy"), b.judge_max_new_tokens,
            schema=self.schema)
        for ep, text in zip(episodes, replies):
            ep.data["assigned_side"] = ep.side
            self.finish(ep, text)


class DebateReviewer(ProtocolReviewer):
    """Two strong debaters argue opposite sides (A: buggy, B: correct) for R rounds; the judge decides."""

    name = "debate"

    def run(self, episodes: list[Episode]) -> None:
        assert self.strong is not None
        b = self.budgets
        for r in range(1, b.rounds + 1):
            for role, side in (("debater A (buggy)", "buggy"), ("debater B (correct)", "correct")):
                self.ask(self.strong, episodes, role,
                         lambda e, side=side, r=r: self.prompts["debater"].render(  # type: ignore[misc]
                             *self.code_view(e), side, e.shown(b.transcript_chars), str(r), str(b.rounds)),
                         b.strong_max_new_tokens)
        replies = self.ask(self.judge, episodes, "judge", lambda e: self.prompts["judge_final"].render(
            *self.code_view(e), e.shown(b.transcript_chars), "debate"), b.judge_max_new_tokens,
            schema=self.schema)
        for ep, text in zip(episodes, replies):
            self.finish(ep, text)


def check_rounds(rounds: int) -> None:
    if rounds < 1:
        raise ProtocolError(f"--rounds must be at least 1, got {rounds}")
