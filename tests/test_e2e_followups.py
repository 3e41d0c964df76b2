"""Follow-ups on delivered songs and status cards, through the real bot, the fake Discord and the simulator."""

from __future__ import annotations

import asyncio

from tests.e2e import buttons, corrupt, custom_id, deliveries, eventually, text_of, wait_delivery
from tests.fakes.discord import pinged_user_ids


async def first_song(fake, prompt="a song to follow up"):
    await fake.slash_command("suno", {"prompt": prompt}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    return message


def modal_values(opened):
    """custom_id → prefilled value of each text input in a modal response."""
    values = {}
    for row in opened["data"]["components"]:
        for component in row.get("components", [row.get("component")] if row.get("component") else []):
            if component and component.get("type") == 4:
                values[component["custom_id"]] = component.get("value")
    return values


async def test_reroll_after_a_restart_submits_the_same_request(harness):
    """Reroll, pressed after the bot restarted, submits the same parameters as a child job and delivers it."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake, "reroll me")
    await harness.restart()
    click = await fake.click_button(message, custom_id(message, "chorus:reroll:"), user=fake.alice)
    assert (await click.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    first, second = (r.body for r in sim.requests_to("submit_music"))
    assert first == second
    job = await harness.bot.jobs.get(2)
    assert (job.kind, job.parent_job_id) == ("reroll", 1)


async def test_anyone_may_extend_a_song_as_their_own_job(harness):
    """Remix as mine: Bob extends Alice's song; the continuation is Bob's job, posted for Bob."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    click = await fake.click_button(message, custom_id(message, "chorus:extend:"), user=fake.bob)
    opened = await click.wait_response()
    assert opened["type"] == 9
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"continue_at": "0:30"}, user=fake.bob,
                                     interaction_from=click)
    assert (await submit.wait_response())["type"] == 5
    extended = (await wait_delivery(fake, 2))[1]
    job = await harness.bot.jobs.get(2)
    assert (job.user_id, job.kind, job.parent_job_id) == (fake.bob.id, "extend", 1)
    assert sim.requests_to("submit_music")[1].body["continue_at"] == 30.0
    assert f"<@{fake.bob.id}>" in text_of(extended) and f"<@{fake.alice.id}>" not in text_of(extended)
    assert "extends #1 take A from 0:30" in text_of(extended)


async def test_another_members_again_is_charged_to_them(harness):
    """Again on someone else's song starts the presser's own job under the presser's limits."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    again = custom_id(message, "chorus:reroll:")
    click = await fake.click_button(message, again, user=fake.bob)  # Alice's quota is used, Bob's is not
    assert (await click.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    assert (await harness.bot.jobs.get(2)).user_id == fake.bob.id
    second = await fake.click_button(message, again, user=fake.bob)
    reply = await second.wait_response()
    assert reply["data"]["flags"] & 64 and "daily limit" in reply["data"]["content"]
    assert sim.count("submit_music") == 2


async def test_extend_then_whole_song(harness):
    """Extend opens a form and continues the take; the extension offers the whole song, which concatenates."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    click = await fake.click_button(message, custom_id(message, "chorus:extend:"), user=fake.alice)
    opened = await click.wait_response()
    assert opened["type"] == 9
    assert modal_values(opened)["continue_at"]  # prefilled with the take's end
    form = {"continue_at": "0:30", "lyrics": "[Bridge]\nand then", "style": "dream pop"}
    submit = await fake.submit_modal(opened["data"]["custom_id"], form, user=fake.alice, interaction_from=click)
    assert (await submit.wait_response())["type"] == 5
    extended_message = (await wait_delivery(fake, 2))[1]
    body = sim.requests_to("submit_music")[1].body
    first_task = sim.requests_to("batch_fetch")[0].body["ids"][0]
    assert (body["task"], body["continue_at"], body["task_id"], body["prompt"], body["tags"]) == (
        "extend", 30.0, first_task, "[Bridge]\nand then", "dream pop",
    )
    whole = await fake.select(extended_message, "chorus:more:2", ["whole:1"], user=fake.alice)
    assert (await whole.wait_response())["type"] == 5
    (_, _, joined) = await wait_delivery(fake, 3)
    extension = await harness.bot.jobs.get(2)
    extended_take = extension.result["clips"][0]["id"]
    assert [r.body["clip_id"] for r in sim.requests_to("submit_concat")] == [extended_take]
    assert "the whole song, from #2 take A" in text_of(joined)
    ids = [b.get("custom_id", "") for b in buttons(joined)]
    assert not any(i.startswith(("chorus:reroll:", "chorus:edit:")) for i in ids)  # joining again changes nothing


async def test_extend_refuses_a_point_past_the_end(harness):
    """A continue-at beyond the take's length is refused privately."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    click = await fake.click_button(message, custom_id(message, "chorus:extend:"), user=fake.alice)
    opened = await click.wait_response()
    submit = await fake.submit_modal(opened["data"]["custom_id"], {"continue_at": "99999"}, user=fake.alice,
                                     interaction_from=click)
    reply = await submit.wait_response()
    assert "between 0:00 and" in reply["data"]["content"]
    assert sim.count("submit_music") == 1


async def test_info_is_for_anyone_and_private(harness):
    """More → Info shows the request readably, a command to copy, and the ids in one small line, ephemerally."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake, "info please")
    click = await fake.select(message, "chorus:more:1", ["info"], user=fake.bob)
    reply = (await click.wait_response())["data"]
    assert reply["flags"] & 64
    embed = reply["embeds"][0]
    assert "Suno v5" in embed["title"]
    assert "/suno prompt:info please model:v5" in embed["description"]
    assert sim.requests_to("batch_fetch")[0].body["ids"][0] in embed["description"].splitlines()[-1]
    assert "take A" in embed["description"]


async def test_delete_by_requester_only(harness):
    """More → Delete removes the song for its requester; a stranger is refused."""
    fake = harness.fake
    message = await first_song(fake)
    stranger = await fake.select(message, "chorus:more:1", ["delete"], user=fake.bob)
    assert "Only" in (await stranger.wait_response())["data"]["content"]
    assert deliveries(fake)
    click = await fake.select(message, "chorus:more:1", ["delete"], user=fake.alice)
    await click.wait_response()
    await fake.wait_for(lambda: not deliveries(fake) or None)


async def test_a_moderator_may_reroll_someone_elses_song(harness):
    """Members with Manage Messages may use the generation buttons too."""
    fake = harness.fake
    message = await first_song(fake)
    click = await fake.click_button(message, custom_id(message, "chorus:reroll:"), user=fake.admin)
    assert (await click.wait_response())["type"] == 5
    await wait_delivery(fake, 2)


async def test_edit_and_rerun_is_prefilled_and_submits_the_change(harness):
    """Edit & rerun opens the original request prefilled; the edited request is submitted."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake, "a polka about tea")
    click = await fake.click_button(message, custom_id(message, "chorus:edit:"), user=fake.alice)
    opened = await click.wait_response()
    values = modal_values(opened)
    assert values["description"] == "a polka about tea"
    models = next(c["component"] for c in opened["data"]["components"] if c.get("type") == 18)
    assert [o["value"] for o in models["options"] if o.get("default")] == ["v5|0"]  # picked from a list
    edited = {**values, "description": "a tango about tea", "model": ["v4|1"]}
    submit = await fake.submit_modal(opened["data"]["custom_id"], edited, user=fake.alice, interaction_from=click)
    assert (await submit.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    body = sim.requests_to("submit_music")[1].body
    assert (body["gpt_description_prompt"], body["mv"], body["make_instrumental"]) == (
        "a tango about tea", "chirp-v4", True,
    )


async def test_lyrics_edit_and_make_song(harness):
    """Lyrics results offer "Edit & make song": the form holds the generated lyrics, and the edit is sung."""
    fake, sim = harness.fake, harness.sim
    await fake.slash_command("lyrics", {"prompt": "autumn"}, user=fake.alice)
    (message,) = await wait_delivery(fake)
    click = await fake.click_button(message, custom_id(message, "chorus:lyricsedit:"), user=fake.alice)
    opened = await click.wait_response()
    values = modal_values(opened)
    assert values["lyrics"] == (await harness.bot.jobs.get(1)).result["lyrics"]["text"]
    edited = values["lyrics"] + "\n[Outro]\nleaves fall"
    submit = await fake.submit_modal(opened["data"]["custom_id"], {**values, "lyrics": edited}, user=fake.alice,
                                     interaction_from=click)
    assert (await submit.wait_response())["type"] == 5
    await wait_delivery(fake, 2)
    assert sim.requests_to("submit_music")[0].body["prompt"] == edited


async def test_buttons_obey_the_same_limits(harness):
    """A reroll over the daily quota is refused privately and nothing is submitted."""
    fake, sim = harness.fake, harness.sim
    message = await first_song(fake)
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    click = await fake.click_button(message, custom_id(message, "chorus:reroll:"), user=fake.alice)
    reply = await click.wait_response()
    assert reply["type"] == 4
    assert "daily limit" in reply["data"]["content"]
    assert sim.count("submit_music") == 1


async def test_cancel_stops_the_post_not_the_charge(slow_harness):
    """Cancel on the status card (requester only) stops the post but not the charge: CometAPI has no cancel, so
    the job keeps its concurrency slot until CometAPI finishes it, then counts against quota and cooldown, and
    is never delivered. A member cannot start paid jobs past their limits by cancelling each one."""
    slow = slow_harness
    fake, sim = slow.fake, slow.sim
    await slow.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1, max_concurrent=1,
                                    cooldown_seconds=3600)
    it = await fake.slash_command("suno", {"prompt": "never mind"}, user=fake.alice)
    card = await it.wait_original(lambda m: m["embeds"] and "Queued" in m["embeds"][0]["title"])
    cancel_id = custom_id(card, "chorus:cancel:")
    stranger = await fake.click_button(card, cancel_id, user=fake.bob)
    assert "Only" in (await stranger.wait_response())["data"]["content"]
    click = await fake.click_button(card, cancel_id, user=fake.alice)
    updated = await click.wait_response()
    assert updated["type"] == 7
    embed = updated["data"]["embeds"][0]
    assert "Cancelled" in embed["title"]
    assert "still counts" in str(embed)
    assert not updated["data"].get("components")
    # Still running on CometAPI: still polled, still holding the member's one slot.
    polled = sim.count("batch_fetch")
    refused = await fake.slash_command("suno", {"prompt": "sneak another one in"}, user=fake.alice)
    reply = await refused.wait_response()
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    slow.sim_clock.advance(400)  # CometAPI finishes the song

    async def finished():
        job = await slow.bot.jobs.get(1)
        return job if job.state == "cancelled" and job.result else None

    await eventually(finished)
    assert sim.count("batch_fetch") > polled
    await asyncio.sleep(0.3)
    assert deliveries(fake) == []
    assert [r for r in fake.state.recorder.requests if r.method == "POST" and r.path.endswith("/messages")] == []
    later = await fake.slash_command("suno", {"prompt": "and again"}, user=fake.alice)
    assert "wait" in (await later.wait_response())["data"]["content"]
    assert sim.count("submit_music") == 1


async def test_failed_jobs_cost_no_quota(harness):
    """With a daily quota of one, a failed job leaves the quota for the next try."""
    fake = harness.fake
    await harness.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, daily_quota=1)
    await fake.slash_command("suno", {"prompt": "[fail] first"}, user=fake.alice)

    async def failed():
        job = await harness.bot.jobs.get(1)
        return job is not None and job.state == "failed" and job.delivery == "delivered"

    await eventually(failed)
    it = await fake.slash_command("suno", {"prompt": "second try"}, user=fake.alice)
    assert (await it.wait_response())["type"] == 5


async def test_history_pages_through_delivered_songs(harness):
    """/history lists a member's delivered songs newest first, five a page, with working page buttons."""
    fake = harness.fake
    for n in range(6):
        await fake.slash_command("suno", {"prompt": f"song number {n}"}, user=fake.alice)
    await wait_delivery(fake, 6)

    async def all_delivered():
        jobs = await harness.bot.jobs.recent(fake.alice.id, guild_id=fake.guild.id, limit=10)
        return len(jobs) == 6 and all(job.delivery == "delivered" for job in jobs)

    await eventually(all_delivered)
    it = await fake.slash_command("history", {"member": fake.alice}, user=fake.bob)
    page = (await it.wait_response())["data"]
    assert page["flags"] & 64
    assert page["embeds"][0]["footer"]["text"].startswith("Page 1 of 2 · 6 songs")
    assert page["embeds"][0]["description"].count("song #") == 5
    assert "song #6" in page["embeds"][0]["description"]  # newest first
    assert "/channels/" in page["embeds"][0]["description"]
    older = next(c for row in page["components"] for c in row["components"] if c["label"] == "Older ▶")
    await harness.restart()
    click = await fake.click_button(it.original(), older["custom_id"], user=fake.bob)
    second = (await click.wait_response())["data"]
    assert second["embeds"][0]["footer"]["text"].startswith("Page 2 of 2")
    assert "song #1" in second["embeds"][0]["description"]


async def test_show_reposts_a_song_with_live_buttons(harness):
    """/show job:<n> posts the song again, without pinging anyone, and its buttons work."""
    fake = harness.fake
    await first_song(fake, "show me again")
    it = await fake.slash_command("show", {"job": 1}, user=fake.bob)
    shown = (await it.wait_response())["data"]
    assert "song #1" in text_of(shown) and "shown again by" in text_of(shown)
    assert shown["allowed_mentions"]["parse"] == []
    click = await fake.select(it.original(), "chorus:more:1", ["info"], user=fake.bob)
    assert "show me again" in (await click.wait_response())["data"]["embeds"][0]["description"]
    missing = await fake.slash_command("show", {"job": 42}, user=fake.bob)
    assert "no finished song #42" in (await missing.wait_response())["data"]["content"]


async def test_make_it_a_song_from_a_message(harness):
    """Right-click → Make it a song: a one-line message becomes the description of a new song."""
    fake, sim = harness.fake, harness.sim
    said = await fake.user_message(fake.music, "a lullaby for sleepy robots", user=fake.bob)
    it = await fake.message_context_menu("Make it a song", said, user=fake.alice)
    opened = await it.wait_response()
    assert opened["type"] == 9
    values = modal_values(opened)
    assert values["description"] == "a lullaby for sleepy robots"
    submit = await fake.submit_modal(opened["data"]["custom_id"], values, user=fake.alice, interaction_from=it)
    assert (await submit.wait_response())["type"] == 5
    await wait_delivery(fake)
    assert sim.requests_to("submit_music")[0].body["gpt_description_prompt"] == "a lullaby for sleepy robots"


async def test_make_it_a_song_from_lyrics(harness):
    """A multi-line message is offered as lyrics and sung in custom mode."""
    fake, sim = harness.fake, harness.sim
    words = "Roses are red\nviolets are blue\nthis bot makes songs\njust for you"
    said = await fake.user_message(fake.music, words, user=fake.bob)
    it = await fake.message_context_menu("Make it a song", said, user=fake.alice)
    opened = await it.wait_response()
    values = modal_values(opened)
    assert values["lyrics"] == words and not values.get("description")
    submit = await fake.submit_modal(opened["data"]["custom_id"], {**values, "style": "acoustic"}, user=fake.alice,
                                     interaction_from=it)
    assert (await submit.wait_response())["type"] == 5
    await wait_delivery(fake)
    body = sim.requests_to("submit_music")[0].body
    assert (body["prompt"], body["tags"]) == (words, "acoustic")


async def test_a_limit_never_throws_the_prompt_away(slow_harness):
    """Over a limit, the member gets their request back privately with Try again; pressed once the limit has
    passed, it starts exactly that request (nothing retyped, nothing charged before)."""
    slow = slow_harness
    fake, sim = slow.fake, slow.sim
    await slow.bot.admin.set_limits(fake.guild.id, by=fake.admin.id, max_concurrent=1, cooldown_seconds=0)
    await fake.slash_command("suno", {"prompt": "the first one"}, user=fake.alice)
    await fake.wait_for(lambda: sim.count("submit_music") == 1 or None)
    it = await fake.slash_command("suno", {"prompt": "a waltz for the moon", "style": "strings"}, user=fake.alice)
    refused = await it.wait_response()
    assert refused["data"]["flags"] & 64
    assert "a waltz for the moon" in refused["data"]["content"] and "Nothing was sent" in refused["data"]["content"]
    (retry,) = [b for b in buttons(refused["data"]) if b.get("custom_id", "").startswith("chorus:retry:")]
    assert sim.count("submit_music") == 1
    early = await fake.click_button(it.original(), retry["custom_id"], user=fake.alice)
    assert "a waltz for the moon" in (await early.wait_response())["data"]["content"]  # still limited: shown again
    slow.sim_clock.advance(400)  # the first song finishes, freeing the slot
    await wait_delivery(fake)
    click = await fake.click_button(it.original(), retry["custom_id"], user=fake.alice)
    assert (await click.wait_response())["type"] == 5
    await fake.wait_for(lambda: sim.count("submit_music") == 2 or None)
    body = sim.requests_to("submit_music")[1].body
    assert "a waltz for the moon" in body["gpt_description_prompt"]
    stranger = await fake.click_button(it.original(), retry["custom_id"], user=fake.bob)
    assert "Only" in (await stranger.wait_response())["data"]["content"]


async def test_a_failure_after_the_token_expired_is_one_short_reply_to_the_card(slow_harness):
    """When the interaction has expired, the failed card is edited in the channel and the member is told by one
    short reply to it that pings only them."""
    slow = slow_harness
    fake = slow.fake
    it = await fake.slash_command("suno", {"prompt": "[fail] too late to be private"}, user=fake.alice)
    card = await it.wait_original(lambda m: bool(m["embeds"]) and "Queued" in m["embeds"][0]["title"])
    await expire(slow, it)
    slow.sim_clock.advance(400)

    def replies():
        found = [m for m in fake.messages_in(fake.music) if (m.get("message_reference") or {}).get("message_id")
                 == card["id"]]
        return found or None

    (reply,) = await fake.wait_for(replies)
    assert pinged_user_ids(reply) == {fake.alice.id}
    # Suno refused its words: asked again unchanged it would fail the same way, so the card offers Edit.
    assert "failed" in reply["content"] and "**Edit**" in reply["content"]
    edited = fake.state.messages.get(int(card["id"])).snapshot()
    assert "Failed" in edited["embeds"][0]["title"]
    assert [b["label"] for b in buttons(edited)] == ["Edit", "Info"]
    public = [m for m in fake.messages_in(fake.music) if not m["flags"] & 64]
    assert {m["id"] for m in public} == {card["id"], reply["id"]}


async def expire(slow, it):
    """Let the interaction's 15 minutes pass: Discord refuses its token, and the bot's record says it is gone."""

    async def card_recorded():
        return (await slow.bot.jobs.get(1)).status_message_id is not None

    await eventually(card_recorded)
    slow.fake.expire_interaction(it)
    await corrupt(slow.settings.database_url, "UPDATE jobs SET interaction_expires_at = 0")
