namespace EdgeStream.Mqtt;

/// <summary>One client's exchange of one method, from its first Authentication Data to success or failure.</summary>
public sealed class MqttEnhancedExchange
{
    private readonly IMqttAuthenticationExchange _exchange;
    private readonly MqttEnhancedAuthentication _owner;
    private readonly string? _requiredPrincipal;
    private bool _done;

    internal MqttEnhancedExchange(string method, IMqttAuthenticationExchange exchange, MqttEnhancedAuthentication owner, string? remote, string? requiredPrincipal)
    {
        Method = method;
        _exchange = exchange;
        _owner = owner;
        Remote = remote;
        _requiredPrincipal = requiredPrincipal;
    }

    public string Method { get; }

    internal string? Remote { get; }

    /// <summary>After success: the principal (<c>User:NAME</c>) the client proved.</summary>
    public string? Principal { get; private set; }

    /// <summary>The client's next Authentication Data; a step after success or failure is a failure.</summary>
    public MqttAuthenticationStep Evaluate(ReadOnlySpan<byte> data)
    {
        if (_done) return MqttAuthenticationStep.Failed(null);
        var step = _exchange.Evaluate(data);
        if (step.Status == MqttAuthenticationStatus.Succeeded)
        {
            var principal = "User:" + step.User;
            // A connection's subscriptions and ACL decisions were made for its principal: re-authenticating
            // may renew the proof, not change who the connection is.
            if (_requiredPrincipal is not null && principal != _requiredPrincipal) step = MqttAuthenticationStep.Failed(step.User);
            else Principal = principal;
        }
        if (step.Status == MqttAuthenticationStatus.Continue) return step;
        _done = true;
        _owner.Audit(this, step);
        return step;
    }
}
