"""python-zeroconf (Debian's python3-zeroconf) as a second, independent mDNS implementation for the tests.

browse SERVICE_TYPE SECONDS EXPECTED
    Browses SERVICE_TYPE, resolves every instance it sees, prints one JSON line per resolved instance
    ({"event":"resolved","name":...,"port":...,"addresses":[...],"txt":{...}}) and exits once EXPECTED
    instances are resolved, or after SECONDS.
register SERVICE_TYPE INSTANCE PORT ADDRESS KEY=VALUE...
    Registers INSTANCE with the TXT pairs on ADDRESS, prints {"event":"registered",...}, and serves until
    SIGTERM (at most two minutes); then unregisters (goodbye).
"""
import json
import signal
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, Zeroconf


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def browse(service_type, seconds, expected):
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    resolved = {}
    done = threading.Event()

    class Listener:
        def add_service(self, zc_, type_, name):
            info = zc_.get_service_info(type_, name, timeout=3000)
            if info is None:
                emit({"event": "unresolved", "name": name})
                return
            txt = {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}
            record = {
                "event": "resolved",
                "name": name,
                "server": info.server,
                "port": info.port,
                "addresses": info.parsed_addresses(),
                "txt": txt,
            }
            if name not in resolved:
                resolved[name] = record
                emit(record)
            if len(resolved) >= expected:
                done.set()

        def update_service(self, zc_, type_, name):
            self.add_service(zc_, type_, name)

        def remove_service(self, zc_, type_, name):
            emit({"event": "removed", "name": name})

    ServiceBrowser(zc, service_type, Listener())
    done.wait(seconds)
    zc.close()
    emit({"event": "done", "resolved": len(resolved)})


def register(service_type, instance, port, address, pairs):
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    props = dict(p.split("=", 1) for p in pairs)
    info = ServiceInfo(
        service_type,
        f"{instance}.{service_type}",
        addresses=[socket.inet_aton(address)],
        port=port,
        properties=props,
        server=f"{instance.replace(' ', '-')}-zc.local.",
    )
    zc.register_service(info)
    emit({"event": "registered", "name": info.name})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait(120)
    zc.unregister_service(info)
    zc.close()
    emit({"event": "unregistered"})


if __name__ == "__main__":
    if sys.argv[1] == "browse":
        browse(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "register":
        register(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
