"""What callers hear: the TwiML documents of the lines, in Mandarin.

Every spoken text uses Amazon Polly's Mandarin voice on Twilio (`Polly.Zhiyu`, `cmn-CN`, a
pair on Twilio's text-to-speech table). Per the national standard there is no menu before a
person: the greeting names the line and the call goes straight to the operators' queue.
"""

from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import VoiceResponse

from channels.senders import MANDARIN_VOICE

# The no-answer fallback: who cannot wait, or calls after hours, leaves a message.
RECORD_PROMPT = "请在提示音后留下您的姓名、联系电话和要反映的问题，说完请按井号键或直接挂机。"


def twiml(response: VoiceResponse | None = None) -> Response:
    """A TwiML HTTP answer (an empty <Response/> ends the call or does nothing more)."""
    return Response(str(response or VoiceResponse()), mimetype="text/xml")


def say(response: VoiceResponse, text: str, **kw: object) -> None:
    response.say(text, **MANDARIN_VOICE, **kw)


def spell(number: str) -> str:
    """A case number as it is read over the phone, one character at a time: "F P 2 0 2 6…"."""
    return " ".join(ch for ch in number if ch.isalnum())


def unknown_number() -> VoiceResponse:
    response = VoiceResponse()
    say(response, "您好，您拨打的号码暂未开通热线服务，请核对号码后再拨。感谢您的来电，再见。")
    response.hangup()
    return response


def greeting(line_name: str, *, queue: str, wait_url: str, action_url: str) -> VoiceResponse:
    response = VoiceResponse()
    say(response, f"您好，这里是{line_name}。正在为您转接话务员，请稍候。")
    response.enqueue(queue, wait_url=wait_url, wait_url_method="POST", action=action_url,
                     method="POST")
    return response


def after_hours(line_name: str, hours: str, *, record: dict[str, str],
                max_seconds: int) -> VoiceResponse:
    response = VoiceResponse()
    when = f"本热线的服务时间为{hours}。" if hours else ""
    say(response, f"您好，这里是{line_name}。现在是非服务时间，{when}"
                  "您可以留言，我们会在上班后尽快回复您。")
    _record(response, record, max_seconds)
    return response


def all_busy(*, record: dict[str, str], max_seconds: int) -> VoiceResponse:
    response = VoiceResponse()
    say(response, "抱歉，话务员暂时都在忙，请您留言，我们会尽快给您回电。")
    _record(response, record, max_seconds)
    return response


def _record(response: VoiceResponse, urls: dict[str, str], max_seconds: int) -> None:
    say(response, RECORD_PROMPT)
    response.record(action=urls["action"], method="POST", max_length=max_seconds, timeout=8,
                     finish_on_key="#", play_beep=True, trim="trim-silence",
                     recording_status_callback=urls["status"],
                     recording_status_callback_method="POST",
                     recording_status_callback_event="completed absent")
    # <Record> goes on here without calling its action when nothing was said.
    response.redirect(urls["nothing"], method="POST")


def hold(position: int, *, key_url: str, music_url: str | None, pause: int,
         offer_message: bool) -> VoiceResponse:
    """One round of the queue's wait document: where the caller stands, then music or a pause.

    Twilio fetches the wait URL again when this ends, so each round re-announces the place.
    """
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=key_url, method="POST", timeout=1,
                             action_on_empty_result=False)
    if position <= 1:
        text = "您是下一位，话务员马上为您服务，请不要挂机。"
    else:
        text = f"您前面还有{position - 1}位来电，请不要挂机，话务员将尽快为您服务。"
    if offer_message:
        text += "如不便等待，请按1留言，我们会尽快回电。"
    gather.say(text, **MANDARIN_VOICE)
    if music_url:
        gather.play(music_url)
    else:
        gather.pause(length=pause)
    return response


def leave_queue() -> VoiceResponse:
    response = VoiceResponse()
    response.leave()
    return response


def back_to_hold(wait_url: str) -> VoiceResponse:
    response = VoiceResponse()
    response.redirect(wait_url, method="POST")
    return response


def connected(recorded: bool) -> VoiceResponse:
    response = VoiceResponse()
    say(response, "正在为您接通话务员。" + ("为保障服务质量，本次通话将被录音。" if recorded else ""))
    return response


def operator_dequeue(queue: str, *, connect_url: str, timeout: int,
                     recording_callback: str | None) -> VoiceResponse:
    """The operator's side: take the longest-waiting caller off the line's queue."""
    response = VoiceResponse()
    options: dict[str, object] = {"timeout": timeout}
    if recording_callback:
        options.update(record="record-from-answer-dual",
                       recording_status_callback=recording_callback,
                       recording_status_callback_method="POST",
                       recording_status_callback_event="completed")
    dial = response.dial(**options)
    dial.queue(queue, url=connect_url, method="POST")
    return response


def message_taken(case_number: str) -> VoiceResponse:
    response = VoiceResponse()
    spelled = spell(case_number)
    say(response, f"您的留言已记录，工单号是：{spelled}。重复一遍，工单号是：{spelled}。"
                  "我们会尽快与您联系。感谢您的来电，再见。")
    response.hangup()
    return response


def no_message(can_call_back: bool) -> VoiceResponse:
    response = VoiceResponse()
    if can_call_back:
        say(response, "没有收到您的留言。我们会尽快回拨您的电话，感谢您的来电，再见。")
    else:
        say(response, "没有收到您的留言，欢迎您在服务时间再次来电。再见。")
    response.hangup()
    return response


def goodbye(text: str) -> VoiceResponse:
    response = VoiceResponse()
    say(response, text)
    response.hangup()
    return response
