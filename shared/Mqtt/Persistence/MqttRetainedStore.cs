using EdgeStream.Records;
using EdgeStream.Metadata;
using MQTTnet;
using MQTTnet.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Mqtt.Persistence;

/// <summary>
/// Keeps MQTTnet's retained messages in meta.db (collection <c>mqtt_retained</c>, key = MQTT topic,
/// value = the message encoded as a one-record batch, base64) so they survive a restart. MQTTnet
/// awaits RetainedMessageChanged while dispatching a PUBLISH, before the PUBACK is queued, so a
/// retained message is stored by the time its publisher hears it was accepted.
/// </summary>
public sealed class MqttRetainedStore : IHostedService
{
    public const string CollectionName = "mqtt_retained";

    private readonly MqttServer? _server;
    private readonly MetadataCollection _collection;
    private readonly ILogger _logger;

    /// <param name="server">MQTTnet's server to hook, or null for the own broker core, which calls <see cref="Load"/> and <see cref="Put"/>.</param>
    public MqttRetainedStore(MqttServer? server, MetadataStore metadata, ILogger<MqttRetainedStore> logger)
    {
        _server = server;
        _collection = metadata.Collection(CollectionName);
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_server is null) return Task.CompletedTask;
        _server.LoadingRetainedMessageAsync += OnLoading;
        _server.RetainedMessageChangedAsync += OnChanged;
        _server.RetainedMessagesClearedAsync += OnCleared;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null) return Task.CompletedTask;
        _server.LoadingRetainedMessageAsync -= OnLoading;
        _server.RetainedMessageChangedAsync -= OnChanged;
        _server.RetainedMessagesClearedAsync -= OnCleared;
        return Task.CompletedTask;
    }

    /// <summary>Every stored retained message, decoded.</summary>
    public List<MqttApplicationMessage> Load()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var messages = new List<MqttApplicationMessage>();
        foreach (var entry in _collection.List())
        {
            try
            {
                var batch = Convert.FromBase64String(entry.Text ?? "");
                foreach (var record in RecordBatchReader.ReadRecords(batch))
                {
                    var message = MqttRecordCodec.ToMessage(record, now, out _);
                    if (message is null) continue; // expired while the node was down
                    message.Retain = true;
                    messages.Add(message);
                }
            }
            catch (Exception ex) when (ex is FormatException or EdgeStreamException)
            {
                MqttPersistenceLog.RetainedUnreadable(_logger, entry.Key, ex.Message);
            }
        }
        return messages;
    }

    private Task OnLoading(LoadingRetainedMessagesEventArgs e)
    {
        e.LoadedRetainedMessages = Load();
        MqttPersistenceLog.RetainedLoaded(_logger, e.LoadedRetainedMessages.Count);
        return Task.CompletedTask;
    }

    private Task OnChanged(RetainedMessageChangedEventArgs e)
    {
        Put(e.ChangedRetainedMessage);
        return Task.CompletedTask;
    }

    /// <summary>Stores <paramref name="message"/> as its topic's retained message, or removes it for an empty payload (§3.3.1.3).</summary>
    public void Put(MqttApplicationMessage message)
    {
        if (message.Payload.IsEmpty)
        {
            _collection.Delete(message.Topic);
        }
        else
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            _collection.Put(message.Topic, now, Convert.ToBase64String(MqttRecordCodec.ToBatch(message, now)));
        }
    }

    private Task OnCleared(EventArgs e)
    {
        var keys = new List<string>();
        foreach (var entry in _collection.List()) keys.Add(entry.Key);
        _collection.DeleteMany(keys);
        return Task.CompletedTask;
    }
}
