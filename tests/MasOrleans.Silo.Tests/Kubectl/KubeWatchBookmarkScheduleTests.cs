using k8s.Models;
using MasOrleans.Silo.Configuration;
using MasOrleans.Silo.KubeApi;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// When periodic watch bookmarks are due (<see cref="KubeWatchBookmarks"/>): every interval, or 2 s before the watch's
/// timeoutSeconds end when that comes first, and none after that (cacheWatcher.nextBookmarkTime,
/// staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go: "right before the watcher timeout - for now we simply
/// set it 2s before the deadline"; a time already past schedules none); none for a watch that did not ask. Every instant
/// is given, none read from the clock, so a stalled machine cannot move them.
/// </summary>
public sealed class KubeWatchBookmarkScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 8, 3, 0, 0, TimeSpan.Zero);
    private static readonly KubeListOptions Asked = new(null, AllowWatchBookmarks: true);

    private static HttpContext Watch(double seconds)
    {
        var services = new ServiceCollection().AddOptions().Configure<KubeApiOptions>(o => o.WatchBookmarkSeconds = seconds)
            .AddSingleton<IHostApplicationLifetime>(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance))
            .BuildServiceProvider();
        return new DefaultHttpContext { RequestServices = services };
    }

    [Fact]
    public void A_watch_that_did_not_ask_gets_none() =>
        Assert.Null(KubeWatchBookmarks.For(Watch(60), new KubeListOptions(null, false), 5, Now, Now.AddSeconds(30)));

    [Fact]
    public void Without_a_timeout_one_is_due_each_interval_once_the_version_moved_past_the_start()
    {
        var minute = KubeWatchBookmarks.For(Watch(60), Asked, 5, Now, null)!;
        Assert.Equal(TimeSpan.FromSeconds(60), minute.DueIn(Now));
        Assert.Null(minute.Take(typeof(V1Pod), 9, Now));
        var at = Now.AddSeconds(61);
        Assert.Equal(TimeSpan.Zero, minute.DueIn(at));
        Assert.Equal("9", minute.Take(typeof(V1Pod), 9, at)!["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(60), minute.DueIn(at));
        // Due, but the version never moved past the watch's start: none sent, the next scheduled all the same.
        var quiet = KubeWatchBookmarks.For(Watch(60), Asked, 5, Now, null)!;
        Assert.Null(quiet.Take(typeof(V1Pod), 5, at));
        Assert.Equal(TimeSpan.FromSeconds(60), quiet.DueIn(at));
    }

    [Fact]
    public void Two_seconds_before_the_end_when_that_comes_first_then_none()
    {
        // timeoutSeconds=30 armed 10 s before the bookmarks start (a slow first look): due 18 s in, 2 s before the end.
        var timed = KubeWatchBookmarks.For(Watch(60), Asked, 5, Now.AddSeconds(10), Now.AddSeconds(30))!;
        Assert.Equal(TimeSpan.FromSeconds(18), timed.DueIn(Now.AddSeconds(10)));
        var beforeEnd = Now.AddSeconds(28);
        Assert.NotNull(timed.Take(typeof(V1Node), 7, beforeEnd));
        Assert.Null(timed.DueIn(beforeEnd));
        // An end 600 s away with the default minute: the minute comes first.
        Assert.Equal(TimeSpan.FromSeconds(60), KubeWatchBookmarks.For(Watch(60), Asked, 5, Now, Now.AddSeconds(600))!.DueIn(Now));
    }

    /// <summary>
    /// The end the bookmarks are due before is the one the stream's lifetime was armed with, not one taken later: a slow
    /// initial list would otherwise put the last bookmark after the stream ended.
    /// </summary>
    [Fact]
    public void The_lifetime_gives_the_deadline_it_armed()
    {
        var context = Watch(60);
        context.Request.QueryString = new QueryString("?watch=true&timeoutSeconds=30");
        var before = DateTimeOffset.UtcNow;
        using var lifetime = KubeWatch.Lifetime(context, out var end);
        var after = DateTimeOffset.UtcNow;
        Assert.NotNull(end);
        Assert.InRange(end.Value, before.AddSeconds(30), after.AddSeconds(30));

        context.Request.QueryString = new QueryString("?watch=true");
        using var endless = KubeWatch.Lifetime(context, out var none);
        Assert.Null(none);
    }
}
