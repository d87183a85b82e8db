using EdgeStream.Mqtt.Limits;
using Microsoft.AspNetCore.Connections;

namespace EdgeStream.Mqtt.Core;

/// <summary>The Kestrel connection handler of the MQTT listener under <c>--mqtt-engine own</c>: one <see cref="MqttCoreConnection"/> per socket.</summary>
public sealed class MqttCoreConnectionHandler(MqttCoreBroker broker, MqttLimits limits) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) => new MqttCoreConnection(connection, broker, limits).RunAsync();
}
