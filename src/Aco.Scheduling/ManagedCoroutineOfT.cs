using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Aco.Scheduling;

/// <summary>A managed coroutine whose body takes <typeparamref name="TState"/> and gives <typeparamref name="TResult"/>.</summary>
internal sealed class ManagedCoroutine<TState, TResult> : ManagedCoroutine, IValueTaskSource<TResult>
{
    private Delegate? _body;
    private TState _state;

    public ManagedCoroutine(AcoScheduler scheduler, Delegate body, TState state, CancellationToken cancellationToken)
        : base(scheduler, cancellationToken)
    {
        _body = body;
        _state = state;
    }

    protected override Task RunBody()
    {
        var body = _body;
        var state = _state;
        _body = null; // the body's own task holds what it still needs
        _state = default!;
        try
        {
            return body switch
            {
                Func<TState, ValueTask<TResult>> f => f(state).AsTask(),
                Func<ValueTask<TResult>> f => f().AsTask(),
                Func<TState, ValueTask> f => f(state).AsTask(),
                Func<ValueTask> f => f().AsTask(),
                _ => throw new UnreachableException(),
            };
        }
        catch (Exception e)
        {
            return Task.FromException<TResult>(e); // a body that throws before its first await
        }
    }

    protected override Task Cancelled(CancellationToken cancellationToken) => Task.FromCanceled<TResult>(cancellationToken);

    TResult IValueTaskSource<TResult>.GetResult(short token) => ((Task<TResult>)Completed()).GetAwaiter().GetResult();
}
