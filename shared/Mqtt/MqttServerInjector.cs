using MQTTnet;
using MQTTnet.Server;

namespace EdgeStream.Mqtt;

/// <summary>Injection into MQTTnet's server (<see cref="MqttEngine.MqttNet"/>).</summary>
public sealed class MqttServerInjector(MqttServer server) : IMqttMessageInjector
{
    public Task InjectAsync(MqttApplicationMessage message, string senderClientId, CancellationToken cancellationToken = default) =>
        server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message) { SenderClientId = senderClientId }, cancellationToken);
}
