#!/usr/bin/python3
"""Behaviour checks of the agent's MQTT listener with a real client: Debian's python3-paho-mqtt 1.6.

usage: paho_scenarios.py SCENARIO PORT PREFIX [args...]

Every scenario puts its topics and client ids under PREFIX (unique per test), prints ONE JSON object
on stdout with what the clients saw, and exits 0; the C# test (PahoClientTests.cs) asserts on it.
Every wait is bounded: a scenario that times out records what it saw so far and the test fails on it.
"""
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

HOST = "127.0.0.1"
WAIT = 20.0  # seconds: the longest any single wait may take

if not paho.mqtt.__version__.startswith("1."):
    # The callback signatures below are paho 1.x's (2.x needs a CallbackAPIVersion).
    sys.exit(f"paho-mqtt {paho.mqtt.__version__}: these scenarios are written for 1.6 (Debian bookworm)")


def _text(value):
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    return value


class Client:
    """A paho client with its network loop on a thread; everything it receives is recorded in order."""

    def __init__(self, port, client_id, v5, clean=True, session_expiry=None, will=None, will_delay=None):
        self.port = port
        self.client_id = client_id
        self.v5 = v5
        self.clean = clean
        self.session_expiry = session_expiry
        self.cond = threading.Condition()
        self.messages = []
        self.connack = None
        self.subacks = {}
        self.acked = set()
        self.disconnected = False
        if v5:
            self.c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5, reconnect_on_failure=False)
        else:
            self.c = mqtt.Client(client_id=client_id, clean_session=clean, protocol=mqtt.MQTTv311, reconnect_on_failure=False)
        if will is not None:
            topic, payload = will
            props = None
            if v5 and will_delay is not None:
                props = Properties(PacketTypes.WILLMESSAGE)
                props.WillDelayInterval = will_delay
            self.c.will_set(topic, payload, qos=1, retain=False, properties=props)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_publish = self._on_publish
        self.c.on_disconnect = self._on_disconnect

    # -- callbacks (paho 1.6 signatures differ between MQTT 3.1.1 and 5) --

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        info = {"session_present": bool(flags.get("session present")), "rc": int(getattr(rc, "value", rc))}
        if properties is not None:
            info["topic_alias_maximum"] = getattr(properties, "TopicAliasMaximum", 0)
            info["shared_subscription_available"] = getattr(properties, "SharedSubscriptionAvailable", None)
            info["assigned_client_id"] = getattr(properties, "AssignedClientIdentifier", None)
        with self.cond:
            self.connack = info
            self.cond.notify_all()

    def _on_message(self, client, userdata, msg):
        record = {"topic": msg.topic, "payload": _text(msg.payload), "qos": msg.qos, "retain": bool(msg.retain)}
        props = getattr(msg, "properties", None)
        if props is not None:
            for name, key in (("ResponseTopic", "response_topic"), ("CorrelationData", "correlation_data"),
                              ("ContentType", "content_type"), ("PayloadFormatIndicator", "payload_format"),
                              ("MessageExpiryInterval", "message_expiry"), ("SubscriptionIdentifier", "subscription_ids")):
                if hasattr(props, name):
                    record[key] = _text(getattr(props, name))
            if hasattr(props, "UserProperty"):
                record["user_properties"] = [[k, v] for k, v in props.UserProperty]
        with self.cond:
            self.messages.append(record)
            self.cond.notify_all()
        if self.on_message_hook is not None:
            self.on_message_hook(self, record)

    on_message_hook = None

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        codes = [int(getattr(g, "value", g)) for g in granted]
        with self.cond:
            self.subacks[mid] = codes
            self.cond.notify_all()

    def _on_publish(self, client, userdata, mid):
        with self.cond:
            self.acked.add(mid)
            self.cond.notify_all()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        with self.cond:
            self.disconnected = True
            self.cond.notify_all()

    # -- actions, each waiting (bounded) for the broker's answer --

    def wait(self, predicate, timeout=WAIT):
        with self.cond:
            return self.cond.wait_for(predicate, timeout)

    def connect(self):
        props = None
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            if self.session_expiry is not None:
                props.SessionExpiryInterval = self.session_expiry
            self.c.connect(HOST, self.port, keepalive=30, clean_start=self.clean, properties=props)
        else:
            self.c.connect(HOST, self.port, keepalive=30)
        self.c.loop_start()
        if not self.wait(lambda: self.connack is not None):
            raise TimeoutError(f"{self.client_id}: no CONNACK")
        if self.connack["rc"] != 0:
            raise RuntimeError(f"{self.client_id}: CONNACK {self.connack}")
        return self.connack

    def subscribe(self, topic, qos=1, no_local=False, subscription_id=None):
        props = None
        if self.v5:
            options = SubscribeOptions(qos=qos, noLocal=no_local)
            if subscription_id is not None:
                props = Properties(PacketTypes.SUBSCRIBE)
                props.SubscriptionIdentifier = subscription_id
            rc, mid = self.c.subscribe(topic, options=options, properties=props)
        else:
            rc, mid = self.c.subscribe(topic, qos)
        if rc != mqtt.MQTT_ERR_SUCCESS or not self.wait(lambda: mid in self.subacks):
            raise TimeoutError(f"{self.client_id}: no SUBACK for {topic}")
        return self.subacks[mid]

    def publish(self, topic, payload, qos=1, retain=False, **properties):
        props = None
        if properties:
            props = Properties(PacketTypes.PUBLISH)
            for name, value in properties.items():
                if name == "UserProperty":
                    for pair in value:
                        props.UserProperty = pair
                else:
                    setattr(props, name, value)
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"{self.client_id}: publish to {topic!r} failed: {mqtt.error_string(info.rc)}")
        # QoS 0: on_publish fires once written; QoS 1/2: on PUBACK/PUBCOMP.
        if not self.wait(lambda: info.mid in self.acked):
            raise TimeoutError(f"{self.client_id}: publish {topic!r} not acknowledged")

    def payloads(self, topic_suffix=None):
        with self.cond:
            return [m["payload"] for m in self.messages if topic_suffix is None or m["topic"].endswith(topic_suffix)]

    def has(self, payload):
        return lambda: any(m["payload"] == payload for m in self.messages)

    def count(self, n):
        return lambda: len(self.messages) >= n

    def disconnect(self):
        self.c.disconnect()
        self.wait(lambda: self.disconnected, 5)
        self.c.loop_stop()


# ---------------------------------------------------------------- scenarios


def qos(port, prefix, version):
    """QoS 0, 1 and 2 from a publisher to a subscriber (subscribed at QoS 2, so nothing is downgraded)."""
    v5 = version == "5"
    sub = Client(port, f"{prefix}-sub", v5)
    sub.connect()
    granted = sub.subscribe(f"{prefix}/qos/#", qos=2)
    pub = Client(port, f"{prefix}-pub", v5)
    pub.connect()
    for q in (0, 1, 2):
        pub.publish(f"{prefix}/qos/{q}", f"payload-q{q}", qos=q)
    sub.wait(sub.count(3))
    pub.disconnect()
    sub.disconnect()
    return {"granted": granted, "messages": sub.messages}


def retained(port, prefix, version):
    """A retained message reaches a late subscriber; an empty retained publish clears it."""
    v5 = version == "5"
    pub = Client(port, f"{prefix}-pub", v5)
    pub.connect()
    pub.publish(f"{prefix}/ret/door", "open", qos=1, retain=True)

    late = Client(port, f"{prefix}-late", v5)
    late.connect()
    late.subscribe(f"{prefix}/ret/#")
    late.wait(late.has("open"))
    late.disconnect()

    pub.publish(f"{prefix}/ret/door", b"", qos=1, retain=True)

    # Retained messages are sent right after the SUBACK, before anything published later: once the
    # probe is in, a retained message would have come first.
    after = Client(port, f"{prefix}-after", v5)
    after.connect()
    after.subscribe(f"{prefix}/ret/#")
    pub.publish(f"{prefix}/ret/probe", "probe", qos=1)
    after.wait(after.has("probe"))
    after.disconnect()
    pub.disconnect()
    return {"late": late.messages, "after_clear": after.messages}


def _start_will_client(port, client_id, version, will_delay, mode):
    """A separate process that connects with a will; 'hang' waits to be killed, 'disconnect' disconnects cleanly."""
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "will-client", str(port), client_id, version, str(will_delay), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([child.stdout], [], [], WAIT)
    line = child.stdout.readline().strip() if ready else ""
    if line != "connected":
        child.kill()
        raise RuntimeError(f"will client did not connect: {line!r} {child.stderr.read()}")
    return child


def will_client(port, client_id, version, will_delay, mode):
    """Child process: connect with a will on will/CLIENT_ID, then wait to be killed (never DISCONNECT) or disconnect."""
    v5 = version == "5"
    delay = int(will_delay)
    expiry = 300 if v5 and delay > 0 else None
    prefix = client_id.rsplit("-", 1)[0]
    c = Client(int(port), client_id, v5, clean=True, session_expiry=expiry,
               will=(f"{prefix}/will/{client_id}", f"gone:{client_id}"), will_delay=delay if delay > 0 else None)
    c.connect()
    if mode == "disconnect":
        c.disconnect()
        print("connected", flush=True)
        return None
    print("connected", flush=True)
    time.sleep(60)  # bounded: the parent kills this process long before
    return None


def will(port, prefix, version):
    """The will of a client killed without DISCONNECT is published; a clean DISCONNECT discards it."""
    v5 = version == "5"
    sub = Client(port, f"{prefix}-sub", v5)
    sub.connect()
    sub.subscribe(f"{prefix}/will/#")
    sub.subscribe(f"{prefix}/probe")
    pub = Client(port, f"{prefix}-pub", v5)
    pub.connect()

    polite = _start_will_client(port, f"{prefix}-polite", version, 0, "disconnect")
    polite.wait(WAIT)
    killed = _start_will_client(port, f"{prefix}-killed", version, 0, "hang")
    killed.send_signal(signal.SIGKILL)  # the socket closes without DISCONNECT
    killed.wait(WAIT)
    sub.wait(sub.has(f"gone:{prefix}-killed"))
    # Anything from the polite client would have been published before the killed client's will.
    pub.publish(f"{prefix}/probe", "probe", qos=1)
    sub.wait(sub.has("probe"))
    pub.disconnect()
    sub.disconnect()
    return {"events": sub.messages}


def will_delay(port, prefix):
    """MQTT 5 will delay 2 s: the will comes after the delay (after a probe published 0.5 s after the
    kill); a client that reconnects to its session within the delay cancels it."""
    sub = Client(port, f"{prefix}-sub", True)
    sub.connect()
    sub.subscribe(f"{prefix}/will/#")
    sub.subscribe(f"{prefix}/probe/#")
    pub = Client(port, f"{prefix}-pub", True)
    pub.connect()

    # 1. Killed and gone: probe first, the will about 2 s after the kill.
    delayed = _start_will_client(port, f"{prefix}-delayed", "5", 2, "hang")
    killed_at = time.monotonic()
    delayed.send_signal(signal.SIGKILL)
    delayed.wait(WAIT)
    time.sleep(0.5)  # the broker has seen the connection drop; without a delay the will is out by now
    pub.publish(f"{prefix}/probe/1", "probe-1", qos=1)
    sub.wait(sub.has(f"gone:{prefix}-delayed"))
    will_after = None
    with sub.cond:
        if any(m["payload"] == f"gone:{prefix}-delayed" for m in sub.messages):
            will_after = time.monotonic() - killed_at

    # 2. Killed, then back within the delay (same id, clean start off): no will at all.
    back = _start_will_client(port, f"{prefix}-back", "5", 2, "hang")
    back.send_signal(signal.SIGKILL)
    back.wait(WAIT)
    time.sleep(0.3)
    again = Client(port, f"{prefix}-back", True, clean=False, session_expiry=300)
    connack = again.connect()
    time.sleep(3.5)  # past the 2 s delay: a will still pending would be out by now
    pub.publish(f"{prefix}/probe/2", "probe-2", qos=1)
    sub.wait(sub.has("probe-2"))
    again.disconnect()
    pub.publish(f"{prefix}/probe/3", "probe-3", qos=1)
    sub.wait(sub.has("probe-3"))
    pub.disconnect()
    sub.disconnect()
    return {"events": [m["payload"] for m in sub.messages], "will_after_seconds": will_after,
            "reconnect_session_present": connack["session_present"]}


def session(port, prefix, version):
    """A persistent session (3.1.1 clean_session=0; 5 clean_start=0 + session expiry 300) gets what
    was published while it was offline, without subscribing again."""
    v5 = version == "5"
    expiry = 300 if v5 else None
    sub = Client(port, f"{prefix}-sub", v5, clean=False, session_expiry=expiry)
    first = sub.connect()
    sub.subscribe(f"{prefix}/ps/#", qos=1)
    sub.disconnect()

    pub = Client(port, f"{prefix}-pub", v5)
    pub.connect()
    for i in range(1, 4):
        pub.publish(f"{prefix}/ps/{i}", f"offline-{i}", qos=1)
    pub.disconnect()

    back = Client(port, f"{prefix}-sub", v5, clean=False, session_expiry=expiry)
    connack = back.connect()
    back.wait(back.count(3))
    back.disconnect()
    return {"first_session_present": first["session_present"], "session_present": connack["session_present"],
            "messages": back.messages}


def properties(port, prefix):
    """MQTT 5 publish properties end to end, and request/response over response topic + correlation data."""
    sub = Client(port, f"{prefix}-sub", True)
    sub.connect()
    sub.subscribe(f"{prefix}/props/#")
    pub = Client(port, f"{prefix}-pub", True)
    pub.connect()
    pub.publish(f"{prefix}/props/x", '{"t":21.5}', qos=1,
                ContentType="application/json", PayloadFormatIndicator=1,
                UserProperty=[("site", "plant-7"), ("line", "3")],
                ResponseTopic=f"{prefix}/props/reply", CorrelationData=b"corr-42")
    sub.wait(sub.count(1))

    # Request/response: the responder answers on the request's response topic with its correlation data.
    responder = Client(port, f"{prefix}-responder", True)

    def answer(client, record):
        if record.get("response_topic"):
            client.c.publish(record["response_topic"], "pong:" + record["payload"], qos=1,
                             properties=_props(CorrelationData=record["correlation_data"].encode()))

    responder.on_message_hook = answer
    responder.connect()
    responder.subscribe(f"{prefix}/req/#")
    requester = Client(port, f"{prefix}-requester", True)
    requester.connect()
    requester.subscribe(f"{prefix}/resp/{prefix}-requester")
    requester.publish(f"{prefix}/req/ping", "ping", qos=1,
                      ResponseTopic=f"{prefix}/resp/{prefix}-requester", CorrelationData=b"req-1")
    requester.wait(requester.count(1))
    for c in (requester, responder, pub, sub):
        c.disconnect()
    return {"message": sub.messages[0] if sub.messages else None, "request": responder.messages, "reply": requester.messages}


def _props(**values):
    props = Properties(PacketTypes.PUBLISH)
    for name, value in values.items():
        setattr(props, name, value)
    return props


def expiry(port, prefix):
    """MQTT 5 message expiry: a message that expired while its persistent subscriber was offline is
    not delivered; an expired retained message is not sent to a new subscriber."""
    sub = Client(port, f"{prefix}-sub", True, clean=False, session_expiry=300)
    sub.connect()
    sub.subscribe(f"{prefix}/exp/#", qos=1)
    sub.disconnect()

    pub = Client(port, f"{prefix}-pub", True)
    pub.connect()
    pub.publish(f"{prefix}/exp/a", "short", qos=1, MessageExpiryInterval=1)
    pub.publish(f"{prefix}/exp/b", "long", qos=1, MessageExpiryInterval=300)
    pub.publish(f"{prefix}/expret/r", "retained-short", qos=1, retain=True, MessageExpiryInterval=1)
    time.sleep(2.5)  # both 1 s messages are past their expiry

    back = Client(port, f"{prefix}-sub", True, clean=False, session_expiry=300)
    connack = back.connect()
    back.wait(back.has("long"))  # "short" was queued before "long": it would have come first
    back.disconnect()

    fresh = Client(port, f"{prefix}-fresh", True)
    fresh.connect()
    fresh.subscribe(f"{prefix}/expret/#")
    pub.publish(f"{prefix}/expret/probe", "probe", qos=1)
    fresh.wait(fresh.has("probe"))
    fresh.disconnect()
    pub.disconnect()
    return {"session_present": connack["session_present"], "queued": back.messages, "retained": fresh.messages}


def alias(port, prefix):
    """MQTT 5 topic alias on publish: the second PUBLISH carries only the alias, the subscriber sees the topic."""
    sub = Client(port, f"{prefix}-sub", True)
    sub.connect()
    sub.subscribe(f"{prefix}/alias/#")
    pub = Client(port, f"{prefix}-pub", True)
    connack = pub.connect()
    maximum = connack.get("topic_alias_maximum", 0)
    if maximum >= 1:
        pub.publish(f"{prefix}/alias/t", "first", qos=1, TopicAlias=1)
        pub.publish("", "second", qos=1, TopicAlias=1)
        sub.wait(sub.count(2))
    pub.disconnect()
    sub.disconnect()
    return {"topic_alias_maximum": maximum, "messages": sub.messages}


def subid(port, prefix):
    """MQTT 5 subscription identifiers come back on the messages each subscription matched."""
    sub = Client(port, f"{prefix}-sub", True)
    sub.connect()
    sub.subscribe(f"{prefix}/sid/a/#", subscription_id=42)
    sub.subscribe(f"{prefix}/sid/b/#", subscription_id=7)
    pub = Client(port, f"{prefix}-pub", True)
    pub.connect()
    pub.publish(f"{prefix}/sid/a/1", "to-a", qos=1)
    pub.publish(f"{prefix}/sid/b/1", "to-b", qos=1)
    sub.wait(sub.count(2))
    pub.disconnect()
    sub.disconnect()
    return {"messages": sub.messages}


def shared(port, prefix):
    """MQTT 5 shared subscription $share/g/...: two members split the messages, each message to one."""
    members = [Client(port, f"{prefix}-m{i}", True) for i in (1, 2)]
    granted = []
    available = None
    for m in members:
        connack = m.connect()
        available = connack.get("shared_subscription_available")
        granted.append(m.subscribe(f"$share/g/{prefix}/sh/#", qos=1))
        m.subscribe(f"{prefix}/shprobe", qos=1)
    pub = Client(port, f"{prefix}-pub", True)
    pub.connect()
    total = 20
    for i in range(total):
        pub.publish(f"{prefix}/sh/x", f"m{i}", qos=1)
    # Each member gets the probe after every shared message the broker sent it.
    pub.publish(f"{prefix}/shprobe", "probe", qos=1)
    for m in members:
        m.wait(m.has("probe"))
    pub.disconnect()
    for m in members:
        m.disconnect()
    return {"shared_subscription_available": available, "granted": granted,
            "members": [[p for p in m.payloads() if p != "probe"] for m in members]}


def nolocal(port, prefix):
    """MQTT 5 no-local: a client does not get its own messages back on a no-local subscription."""
    a = Client(port, f"{prefix}-a", True)
    a.connect()
    a.subscribe(f"{prefix}/nl/#", qos=1, no_local=True)
    b = Client(port, f"{prefix}-b", True)
    b.connect()
    b.subscribe(f"{prefix}/nl/#", qos=1)
    a.publish(f"{prefix}/nl/x", "from-a", qos=1)
    b.publish(f"{prefix}/nl/x", "from-b", qos=1)
    a.wait(a.has("from-b"))
    b.wait(b.count(2))
    a.disconnect()
    b.disconnect()
    return {"a": a.payloads(), "b": b.payloads()}


SCENARIOS = {
    "qos": qos, "retained": retained, "will": will, "will-delay": will_delay, "session": session,
    "properties": properties, "expiry": expiry, "alias": alias, "subid": subid, "shared": shared,
    "nolocal": nolocal,
}


def main(argv):
    if len(argv) >= 2 and argv[1] == "will-client":
        will_client(*argv[2:7])
        return 0
    if len(argv) < 4 or argv[1] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    result = SCENARIOS[argv[1]](int(argv[2]), argv[3], *argv[4:])
    result["paho"] = paho.mqtt.__version__
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
