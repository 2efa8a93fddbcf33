using System.Net;
using System.Text;
using System.Text.Json;
using MasOrleans.Silo.Tests.Infrastructure;

namespace MasOrleans.Silo.Tests;

/// <summary>Every input rule over real HTTP: the bad body gets 400 problem details naming the rule; the good twin passes.</summary>
public sealed class InputRulesTests(MemorySiloFixture fixture) : IClassFixture<MemorySiloFixture>, IDisposable
{
    /// <summary>After every test: the shared silo logged no warning or error the test did not expect.</summary>
    public void Dispose() => fixture.Host.Log.AssertClean();

    private static readonly string Long64 = new('a', 64);

    private static string Node(string name = "rules-node", string labels = "{}", string taints = "[]", string cpu = "8") =>
        $$"""{"name":"{{name}}","capacity":{"cpu":"{{cpu}}","memory":"8Gi"},"labels":{{labels}},"taints":{{taints}}}""";

    private static string Pod(string name = "rules-pod", string extra = "", string cpu = "1") =>
        $$"""{"name":"{{name}}","requests":{"cpu":"{{cpu}}","memory":"1Gi"}{{extra}}}""";

    private static string Affinity(string op, string values) =>
        ""","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":""" + $"\"{op}\",\"values\":{values}" + "}]}]}}}";

    private static string NameFields(string key, string op, string values) =>
        ""","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":""" + $"\"{key}\",\"operator\":\"{op}\",\"values\":{values}" + "}]}]}}}";

    public static TheoryData<string, string, string> BadInputs => new()
    {
        // path, body, part of the problem detail
        { "/api/v1/pods", Pod(name: "Web"), "DNS-1123 label" },
        { "/api/v1/pods", Pod(name: "a.b"), "DNS-1123 label" },
        { "/api/v1/pods", Pod(name: Long64), "DNS-1123 label" },
        { "/api/v1/workloads", $"{{\"name\":\"{new string('w', 60)}\",\"replicas\":1,\"template\":{{\"requests\":{{\"cpu\":\"1\"}}}}}}", "DNS-1123 label" },
        { "/api/v1/nodes", Node(name: "node..a"), "DNS-1123 subdomain" },
        { "/api/v1/nodes", Node(name: "-node"), "DNS-1123 subdomain" },
        // A name over 63 characters without a hostname label of its own: it was served as the kubernetes.io/hostname label's
        // value, which a label value cannot be (apimachinery validation.IsValidLabelValue: at most 63).
        { "/api/v1/nodes", Node(name: Long64), $"node name '{Long64}' is 64 characters: a node without a kubernetes.io/hostname label of its own has its name as that label's value" },
        { "/api/v1/nodes", Node(labels: """{"bad key":"x"}"""), "qualified name" },
        { "/api/v1/nodes", Node(labels: """{"Example.com/zone":"x"}"""), "prefix" },
        { "/api/v1/nodes", Node(labels: $$"""{"zone":"{{Long64}}"}"""), "at most 63" },
        { "/api/v1/nodes", Node(labels: """{"zone":"a b"}"""), "at most 63" },
        { "/api/v1/nodes", Node(taints: """[{"key":"bad key","effect":"NoSchedule"}]"""), "taint key" },
        { "/api/v1/nodes", Node(taints: """[{"key":"k","value":"a/b","effect":"NoSchedule"}]"""), "taint value" },
        { "/api/v1/nodes", Node(taints: """[{"key":"k","effect":"Sometimes"}]"""), "taint effect" },
        // Required, as /k8s requires it (validateTaintEffect): it was stored as NoSchedule.
        { "/api/v1/nodes", Node(name: "rules-no-effect", taints: """[{"key":"a","effect":"NoExecute"},{"key":"k","value":"v"}]"""), "taints[1].effect is required (NoSchedule, PreferNoSchedule or NoExecute)" },
        { "/api/v1/pods", Pod(extra: ""","labels":{"app/":"x"}"""), "qualified name" },
        { "/api/v1/pods", Pod(extra: ""","nodeSelector":{"zone":"a b"}"""), "nodeSelector value" },
        { "/api/v1/pods", Pod(extra: ""","tolerations":[{"key":"k","operator":"Maybe"}]"""), "Equal or Exists" },
        { "/api/v1/pods", Pod(extra: ""","tolerations":[{"operator":"Equal","value":"v"}]"""), "without a key" },
        { "/api/v1/pods", Pod(extra: ""","tolerations":[{"key":"k","operator":"Exists","value":"v"}]"""), "must not have a value" },
        { "/api/v1/pods", Pod(extra: ""","tolerations":[{"key":"k","operator":"Exists","effect":"Later"}]"""), "not a taint effect" },
        { "/api/v1/pods", Pod(extra: Affinity("In", "[]")), "at least one value" },
        { "/api/v1/pods", Pod(extra: Affinity("Gt", """["ten"]""")), "one integer value" },
        { "/api/v1/pods", Pod(extra: Affinity("Lt", """[" 5"]""")), "one integer value" },
        // What labels.NewRequirement takes for Gt and Lt (apimachinery pkg/labels/selector.go): strconv.ParseInt reads it
        // and it is a label value, so digits only; the scheduler matches no node with anything else.
        { "/api/v1/pods", Pod(extra: Affinity("Gt", """["-5"]""")), "one integer value (digits only, within int64), not \"-5\"" },
        { "/api/v1/pods", Pod(extra: Affinity("Lt", """["+5"]""")), "one integer value" },
        { "/api/v1/pods", Pod(extra: Affinity("Gt", """["5\u0000"]""")), "one integer value" },
        { "/api/v1/pods", Pod(extra: Affinity("Gt", """["9223372036854775808"]""")), "one integer value" },
        { "/api/v1/workloads", """{"name":"rules-gt","replicas":1,"template":{"requests":{"cpu":"1"}""" + Affinity("Gt", """["-5"]""") + "}}", "one integer value" },
        { "/api/v1/scheduler/explain", """{"pod":""" + Pod(name: "rules-gt", extra: Affinity("Lt", """["ten"]""")) + "}", "one integer value" },
        { "/api/v1/pods", Pod(extra: Affinity("Exists", """["x"]""")), "must not have values" },
        { "/api/v1/pods", Pod(extra: Affinity("Near", """["x"]""")), "is not one of" },
        { "/api/v1/pods", Pod(extra: NameFields("metadata.uid", "In", """["x"]""")), "must be metadata.name" },
        { "/api/v1/pods", Pod(extra: NameFields("metadata.name", "Exists", "[]")), "must be In or NotIn" },
        { "/api/v1/pods", Pod(extra: NameFields("metadata.name", "In", """["a","b"]""")), "exactly one node name" },
        { "/api/v1/nodes", """{"name":"rules-pods","capacity":{"cpu":"8","pods":"0"}}""", "not a valid pod count" },
        { "/api/v1/pods", Pod(extra: ""","topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"bad key","whenUnsatisfiable":"DoNotSchedule"}]"""), "topologyKey" },
        // Nulls inside lists: rejected before any member of the missing element is read.
        { "/api/v1/pods", Pod(extra: ""","topologySpreadConstraints":[null]"""), "topologySpreadConstraints must not be null" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[null]}}"""), "must not be null" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[null]}}"""), "must not be null" },
        { "/api/v1/pods", Pod(extra: ""","tolerations":[null]"""), "must not be null" },
        // Null label values: the route fuzzer's find (a pod with a spread constraint over a node label that was null
        // failed every scheduling cycle with ArgumentNullException from the topology domain lookup).
        // A number given as a string: Kubernetes' decoder refuses it, and "priority":"high" already was, while "10" passed.
        { "/api/v1/pods", Pod(name: "rules-string-priority", extra: ""","priority":"10" """), "the value at $.priority must be a whole number" },
        { "/api/v1/pods", Pod(name: "rules-string-duration", extra: ""","expectedDurationSeconds":"60" """), "the value at $.expectedDurationSeconds must be a number" },
        { "/api/v1/workloads", """{"name":"rules-string-replicas","replicas":"2","template":{"requests":{"cpu":"1m"}}}""", "the value at $.replicas must be a whole number" },
        { "/api/v1/scheduler/explain", """{"pod":""" + Pod(name: "rules-string-priority", extra: ""","priority":"NaN" """) + "}", "the value at $.pod.priority must be a whole number" },
        { "/api/v1/nodes", Node(labels: """{"zone":null}"""), "needs a string value" },
        { "/api/v1/pods", Pod(extra: ""","labels":{"app":null}"""), "needs a string value" },
        { "/api/v1/pods", Pod(extra: ""","nodeSelector":{"zone":null}"""), "needs a string value" },
        { "/api/v1/pods", Pod(extra: ""","topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":null}}}]"""), "needs a string value" },
        { "/api/v1/pods", Pod(extra: Affinity("In", "[null]")), "values must not be null" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{}}}"""), "at least one nodeSelectorTerm" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}}"""), "at least one nodeSelectorTerm" },
        { "/api/v1/pods", Pod(extra: ""","priority":2000000000"""), "priority must be between" },
        { "/api/v1/pods", Pod(extra: ""","preemptionPolicy":"never" """), "preemptionPolicy must be \"PreemptLowerPriority\" or \"Never\", not \"never\"" },
        { "/api/v1/pods", Pod(cpu: "1e15"), "exceeds the maximum 16384" },
        // Well-formed but beyond what a stored long holds: called "not a valid quantity" while 1e15 above was over the maximum.
        { "/api/v1/pods", Pod(cpu: "1e16"), "requests of 'cpu' (1e16) exceeds the maximum 16384" },
        { "/api/v1/nodes", Node(cpu: "9223372036854775807"), "capacity of 'cpu' (9223372036854775807) exceeds the maximum" },
        // Beyond a decimal too (7.9e28): still well-formed, so over the maximum, not "not a valid quantity".
        { "/api/v1/pods", Pod(cpu: "1e29"), "requests of 'cpu' (1e29) exceeds the maximum 16384" },
        { "/api/v1/nodes", Node(cpu: "99999999999999999999999999999"), "capacity of 'cpu' (99999999999999999999999999999) exceeds the maximum" },
        { "/api/v1/pods", Pod(extra: $$""","image":"{{new string('i', 1100)}}" """), "image must be at most" },
        { "/api/v1/nodes", Node(cpu: "100000"), "exceeds the maximum" },
        { "/api/v1/nodes", Node(labels: "{" + string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"k{i}\":\"v\"")) + "}"), "at most 64 entries" },
        { "/api/v1/pods", Pod(extra: ""","tolerations":[""" + string.Join(",", Enumerable.Repeat("""{"operator":"Exists"}""", 65)) + "]"), "at most 64 entries" },
        // Fields the body does not have: named in the problem, never dropped (a misspelt run time meant "forever").
        { "/api/v1/pods", Pod(extra: ""","runSeconds":5"""), "unknown field 'runSeconds' at $.runSeconds" },
        { "/api/v1/nodes", """{"name":"rules-typo","capacty":{"cpu":"8"}}""", "unknown field 'capacty'" },
        // A name with a dot is quoted in the path ($['cpu.limit']): the field is still named whole.
        { "/api/v1/nodes", """{"name":"rules-typo2","capacity":{"cpu":"8"},"cpu.limit":"4"}""", "unknown field 'cpu.limit' at $['cpu.limit']" },
        { "/api/v1/workloads", """{"name":"rules-w","replica":2,"template":{"requests":{"cpu":"1"}}}""", "unknown field 'replica'" },
        { "/api/v1/workloads", """{"name":"rules-w2","replicas":1,"template":{"requests":{"cpu":"1"},"restartPolicy":"Never"}}""", "unknown field 'restartPolicy' at $.template.restartPolicy" },
        { "/api/v1/scheduler/explain", """{"pod":{"name":"e","requests":{"cpu":"1"}},"policies":["kube"]}""", "unknown field 'policies'" },
        // Also inside the Kubernetes shapes a body carries (a toleration, an affinity term, a taint).
        { "/api/v1/pods", Pod(extra: ""","tolerations":[{"operater":"Exists"}]"""), "unknown field 'operater' at $.tolerations[0].operater" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weigth":1,"preference":{}}]}}"""),
            "unknown field 'weigth' at $.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weigth" },
        { "/api/v1/nodes", Node(taints: """[{"key":"k","effekt":"NoSchedule"}]"""), "unknown field 'effekt' at $.taints[0].effekt" },
        // A final newline: .NET's '$' matches before it, so these passed the name rules, were created, and the 201/202's
        // Location header then failed (a 500 with the object left behind; the exploratory run of session 23).
        { "/api/v1/pods", Pod(name: "nl-pod\\n"), "DNS-1123 label" },
        { "/api/v1/nodes", Node(name: "nl-node\\n"), "DNS-1123 subdomain" },
        { "/api/v1/nodes", Node(labels: """{"a\n":"b"}"""), "qualified name" },
        { "/api/v1/nodes", Node(labels: """{"a":"b\n"}"""), "at most 63" },
        // The reader's own failures, in the API's terms rather than .NET type names.
        { "/api/v1/pods", """{"name":"dup-a","requests":{"cpu":"1"},"name":"dup-b"}""", "field 'name' is given twice" },
        { "/api/v1/nodes", """{"name":"dup-node","capacity":{"cpu":"4"},"capacity":{"cpu":"8"}}""", "field 'capacity' is given twice" },
        // A map's key given twice was "Duplicate properties not allowed during deserialization.", naming neither.
        { "/api/v1/nodes", """{"name":"dup-key","capacity":{"cpu":"4","cpu":"8"}}""", "key 'cpu' is given twice in $.capacity: give each key once" },
        { "/api/v1/nodes/dup-key/telemetry", """{"utilization":{"cpu":0.5,"cpu":0.6}}""", "key 'cpu' is given twice in $.utilization: give each key once" },
        // Named the resource but not the ones there are, as capacity and requests do: "gpu" is "nvidia.com/gpu".
        { "/api/v1/nodes/rules-tele/telemetry", """{"utilization":{"gpu":0.5}}""",
            "unknown resource 'gpu' (known: cpu, memory, nvidia.com/gpu, mas.io/disk-io, mas.io/network, ephemeral-storage)" },
        { "/api/v1/nodes", """{"name":"dup-label","capacity":{"cpu":"4"},"labels":{"a.b/c":"1","a.b/c":"2"}}""", "key 'a.b/c' is given twice in $.labels: give each key once" },
        { "/api/v1/pods", Pod(extra: ",\"priority\":1.5"), "the value at $.priority must be a whole number" },
        // A whole number beyond int32 was told it is none; it is out of the range this API takes (Kubernetes' user-definable one).
        { "/api/v1/pods", Pod(name: "rules-big-priority", extra: ",\"priority\":99999999999"), "priority must be between -1000000000 and 1000000000" },
        { "/api/v1/workloads", """{"name":"rules-big-priority","replicas":1,"template":{"requests":{"cpu":"1m"},"priority":-99999999999}}""", "priority must be between -1000000000 and 1000000000" },
        { "/api/v1/pods", """{"name":"arr","requests":[]}""", "the value at $.requests must be an object" },
        { "/api/v1/pods", "[]", "the value at $ must be an object" },
        { "/api/v1/pods", "", "a JSON body is required" },
        // Values storage cannot encode or a timer cannot hold: a workload once kept them in memory only (503, then 409 for ever).
        // "NaN" is a string, no JSON number, so it stops at reading now that numbers are strict.
        { "/api/v1/workloads", Workload("\"targetCpuUtilization\":\"NaN\""), "the value at $.autoscale.targetCpuUtilization must be a number" },
        { "/api/v1/workloads", Workload("\"scaleDownCooldownSeconds\":1e400"), "cooldowns must be" },
        { "/api/v1/workloads", Workload("\"scaleUpCooldownSeconds\":1e300"), "cooldowns must be" },
        { "/api/v1/workloads", Workload("\"scaleUpCooldownSeconds\":-1"), "cooldowns must be" },
        // Replicas outside the autoscale range the same request gives were cut to the bound without a word.
        { "/api/v1/workloads", """{"name":"rules-auto-over","replicas":5,"template":{"requests":{"cpu":"1m"}},"autoscale":{"minReplicas":1,"maxReplicas":3}}""",
            "replicas 5 is outside autoscale's range: minReplicas 1, maxReplicas 3" },
        { "/api/v1/workloads", """{"name":"rules-auto-under","replicas":1,"template":{"requests":{"cpu":"1m"}},"autoscale":{"minReplicas":2,"maxReplicas":3}}""",
            "replicas 1 is outside autoscale's range: minReplicas 2, maxReplicas 3" },
        // Kubernetes' own rules (pkg/apis/core/validation/validation.go): weights 1-100, unique taints, minDomains,
        // namespaces that are DNS labels, no whitespace around an image.
        { "/api/v1/pods", Pod(extra: ""","affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":-100,"preference":{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}}]}}"""), "weight -100 must be in the range 1-100" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":-2147483648,"podAffinityTerm":{"topologyKey":"zone"}}]}}"""), "must be in the range 1-100" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":101,"podAffinityTerm":{"topologyKey":"zone"}}]}}"""), "weight 101 must be in the range 1-100" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"zone","namespaces":["Bad NS!"]}]}}"""), "pod affinity namespace name" },
        { "/api/v1/pods", Pod(extra: ""","affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"zone","namespaces":[null]}]}}"""), "pod affinity namespace name is required" },
        { "/api/v1/pods", Pod(extra: ""","topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","minDomains":-1}]"""), "minDomains must be greater than 0" },
        { "/api/v1/pods", Pod(extra: ""","topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"ScheduleAnyway","minDomains":2}]"""), "only use minDomains with whenUnsatisfiable DoNotSchedule" },
        { "/api/v1/nodes", Node(taints: """[{"key":"k","effect":"NoSchedule"},{"key":"k","value":"v","effect":"NoSchedule"}]"""), "unique by key and effect" },
        { "/api/v1/pods", Pod(extra: ",\"image\":\"pytorch\\u0000\\n:latest\""), "control or format characters" },
        { "/api/v1/pods", Pod(extra: ",\"image\":\"pytorch\\u202e:latest\""), "control or format characters" },
        { "/api/v1/pods", Pod(extra: ",\"image\":\" nginx\""), "leading or trailing whitespace" },
        { "/api/v1/pods", Pod(extra: ""","expectedDurationSeconds":0"""), "above 0" },
        // Kubernetes' activeDeadlineSeconds: 1 to 2147483647 (ValidatePodSpec, pkg/apis/core/validation/validation.go), a whole number.
        { "/api/v1/pods", Pod(name: "rules-deadline-0", extra: ""","activeDeadlineSeconds":0"""), "activeDeadlineSeconds 0: must be between 1 and 2147483647, inclusive" },
        { "/api/v1/pods", Pod(name: "rules-deadline-neg", extra: ""","activeDeadlineSeconds":-5"""), "activeDeadlineSeconds -5: must be between 1 and 2147483647, inclusive" },
        { "/api/v1/pods", Pod(name: "rules-deadline-big", extra: ""","activeDeadlineSeconds":2147483648"""), "activeDeadlineSeconds 2147483648: must be between 1 and 2147483647, inclusive" },
        { "/api/v1/pods", Pod(name: "rules-deadline-frac", extra: ""","activeDeadlineSeconds":1.5"""), "the value at $.activeDeadlineSeconds must be a whole number" },
        { "/api/v1/pods", Pod(name: "rules-deadline-str", extra: ""","activeDeadlineSeconds":"60" """), "the value at $.activeDeadlineSeconds must be a whole number" },
        { "/api/v1/workloads", """{"name":"rules-deadline-w","replicas":1,"template":{"requests":{"cpu":"1m"},"activeDeadlineSeconds":0}}""", "activeDeadlineSeconds 0: must be between 1 and 2147483647, inclusive" },
        // A workload replaces failed pods: a deadline in its template would fail them for ever (upstream refuses it in a ReplicaSet's).
        { "/api/v1/workloads", """{"name":"rules-deadline-w2","replicas":1,"template":{"requests":{"cpu":"1m"},"activeDeadlineSeconds":60}}""", "template.activeDeadlineSeconds is not supported in a workload" },
        // A per-node cap the MaxInstancesPerNode filter could not apply was accepted and then silently ignored by it;
        // refused by the rule the DLRM reader applies to max_instance_per_node.
        { "/api/v1/pods", Pod(name: "cap-abc", extra: ""","labels":{"mas.io/app":"a","mas.io/max-per-node":"abc"}"""), "label mas.io/max-per-node 'abc' must be a whole number of instances per node, 1 or more" },
        { "/api/v1/pods", Pod(name: "cap-zero", extra: ""","labels":{"mas.io/app":"a","mas.io/max-per-node":"0"}"""), "label mas.io/max-per-node '0': 0 allows no instance on any node" },
        { "/api/v1/pods", Pod(name: "cap-big", extra: ""","labels":{"mas.io/app":"a","mas.io/max-per-node":"2147483648"}"""), "2147483648 is above the largest cap" },
        { "/api/v1/pods", Pod(name: "cap-no-app", extra: ""","labels":{"mas.io/max-per-node":"2"}"""), "no mas.io/app with mas.io/max-per-node 2: the cap is per app" },
        { "/api/v1/workloads", """{"name":"cap-w","replicas":1,"template":{"requests":{"cpu":"1m"},"labels":{"mas.io/app":"w","mas.io/max-per-node":"1.5"}}}""", "must be a whole number of instances per node" },
    };

    /// <summary>The learning API's bodies, whose values of the wrong kind were each "must be an object".</summary>
    [Theory]
    [InlineData("PUT", "/api/v1/learning/ddqn/online", """{"enabled":"yes"}""", "the value at $.enabled must be true or false")]
    [InlineData("POST", "/api/v1/learning/ddqn/rollback", """{"version":1.5}""", "the value at $.version must be a whole number from -2147483648 to 2147483647")]
    // Beyond int32: told the range, not only that it must be a whole number (which it is).
    [InlineData("POST", "/api/v1/learning/ppo/rollback", """{"version":99999999999}""", "the value at $.version must be a whole number from -2147483648 to 2147483647")]
    public async Task Learning_bodies_say_what_kind_of_value_a_field_takes(string method, string path, string body, string detail)
    {
        using var response = await fixture.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal(detail, JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
    }

    /// <summary>A route that reads no body refuses one: train took {"epochs":5} and trained with its defaults (200 or 409).</summary>
    [Theory]
    [InlineData("/api/v1/learning/ddqn/train", """{"epochs":5}""")]
    [InlineData("/api/v1/nodes/rules-node/cordon", "{}")]
    public async Task A_route_that_reads_no_body_refuses_one(string path, string body)
    {
        using var response = await fixture.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal($"POST {path} takes no body; send the request without one", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
    }

    private static string Workload(string autoscaleField) =>
        """{"name":"rules-auto","replicas":1,"template":{"requests":{"cpu":"1m"}},"autoscale":{"minReplicas":1,"maxReplicas":3,""" + autoscaleField + "}}";

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Each_rule_rejects_with_a_clear_problem(string path, string body, string detailPart)
    {
        using var response = await fixture.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detailPart, JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
    }

    public static TheoryData<string, string> GoodInputs => new()
    {
        { "/api/v1/nodes", Node(name: "rack-1.node-a", labels: """{"example.com/zone":"eu_west-1.a","kubernetes.io/hostname":"node-a","empty":""}""",
            taints: """[{"key":"example.com/dedicated","value":"ml","effect":"PreferNoSchedule"}]""") },
        { "/api/v1/nodes", """{"name":"rules-node-pods","capacity":{"cpu":"8","memory":"8Gi","pods":"250"}}""" },
        // A long name (a DNS subdomain up to 253) with a hostname label of its own, as a kubelet given --hostname-override registers.
        { "/api/v1/nodes", Node(name: $"rules-{new string('h', 60)}.example.com", labels: """{"kubernetes.io/hostname":"rules-h"}""") },
        { "/api/v1/nodes", Node(name: new string('r', 63)) },
        { "/api/v1/pods", Pod(name: "good-pod-2", extra: NameFields("metadata.name", "In", """["rules-node-pods"]""")) },
        // Gt and Lt take digits within int64, leading zeros too ("0016" is 16 to strconv.ParseInt and a label value).
        { "/api/v1/pods", Pod(name: "good-pod-3", extra: Affinity("Gt", """["0016"]""")) },
        { "/api/v1/pods", Pod(name: "good-pod-5", extra: Affinity("Lt", """["9223372036854775807"]""")) },
        { "/api/v1/pods", Pod(name: "good-pod-4", extra: ""","affinity":{"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"topologyKey":"zone","namespaces":["team-a"]}}]}},"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","minDomains":1}]""") },
        { "/api/v1/pods", Pod(name: "good-pod-cap", extra: ""","labels":{"mas.io/app":"a","mas.io/max-per-node":"2"}""") },
        { "/api/v1/pods", Pod(name: "good-pod-1", extra: ""","tolerations":[{"operator":"Exists"},{"key":"k","operator":"Equal","value":"v","effect":"NoExecute"}],"priority":1000000000""" + Affinity("Gt", """["10"]""")) },
    };

    [Theory]
    [MemberData(nameof(GoodInputs))]
    public async Task Valid_kubernetes_shapes_pass(string path, string body)
    {
        using var response = await fixture.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_node_shows_the_pod_count_it_was_given()
    {
        using var given = await fixture.Http.PostAsync("/api/v1/nodes", new StringContent("""{"name":"rules-pods-5","capacity":{"cpu":"8","pods":"5"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, given.StatusCode);
        Assert.Equal("5", JsonDocument.Parse(await given.Content.ReadAsStringAsync()).RootElement.GetProperty("capacity").GetProperty("pods").GetString());
        var read = JsonDocument.Parse(await fixture.Http.GetStringAsync("/api/v1/nodes/rules-pods-5")).RootElement;
        Assert.Equal("5", read.GetProperty("capacity").GetProperty("pods").GetString());
        // Without one, the default (110) applies and the capacity lists resources only, as before.
        await fixture.Http.PostAsync("/api/v1/nodes", new StringContent(Node(name: "rules-pods-default"), Encoding.UTF8, "application/json"));
        var plain = JsonDocument.Parse(await fixture.Http.GetStringAsync("/api/v1/nodes/rules-pods-default")).RootElement;
        Assert.False(plain.GetProperty("capacity").TryGetProperty("pods", out _));
    }

    [Fact]
    public async Task Names_in_paths_that_could_never_exist_are_a_400()
    {
        using var response = await fixture.Http.GetAsync($"/api/v1/pods/{new string('x', 300)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("DNS-1123 subdomain", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync("/api/v1/pods/ml.never-created")).StatusCode);
    }

    [Fact]
    public async Task Patched_labels_follow_the_same_rules()
    {
        await fixture.Http.PostAsync("/api/v1/nodes", new StringContent(Node(name: "rules-patch"), Encoding.UTF8, "application/json"));
        using var response = await fixture.Http.PatchAsync("/api/v1/nodes/rules-patch", new StringContent("""{"labels":{"bad key":"x"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // A long-named node keeps a hostname label of its own: a patch of its labels without one is refused, one without labels is not.
        var longName = $"rules-patch-{new string('l', 60)}";
        Assert.Equal(HttpStatusCode.Created, (await fixture.Http.PostAsync("/api/v1/nodes", new StringContent(Node(name: longName, labels: """{"kubernetes.io/hostname":"rules-l"}"""), Encoding.UTF8, "application/json"))).StatusCode);
        using var hostnameDropped = await fixture.Http.PatchAsync($"/api/v1/nodes/{longName}", new StringContent("""{"labels":{"zone":"a"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, hostnameDropped.StatusCode);
        Assert.Contains("is 72 characters: a node without a kubernetes.io/hostname label of its own", await hostnameDropped.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.PatchAsync($"/api/v1/nodes/{longName}", new StringContent("""{"unschedulable":true}""", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal("rules-l", JsonDocument.Parse(await fixture.Http.GetStringAsync($"/api/v1/nodes/{longName}")).RootElement.GetProperty("labels").GetProperty("kubernetes.io/hostname").GetString());
        using var nullValue = await fixture.Http.PatchAsync("/api/v1/nodes/rules-patch", new StringContent("""{"labels":{"zone":null}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, nullValue.StatusCode);
        Assert.Contains("needs a string value", await nullValue.Content.ReadAsStringAsync());
        // PATCH and PUT bodies name an unknown field too, and change nothing.
        using var typo = await fixture.Http.PatchAsync("/api/v1/nodes/rules-patch", new StringContent("""{"unschedulable":true,"label":{"a":"b"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        Assert.Contains("unknown field 'label' at $.label", await typo.Content.ReadAsStringAsync());
        var node = JsonDocument.Parse(await fixture.Http.GetStringAsync("/api/v1/nodes/rules-patch")).RootElement;
        Assert.False(node.TryGetProperty("unschedulable", out var flag) && flag.GetBoolean(), "a refused PATCH changed the node");
        using var put = await fixture.Http.PutAsync("/api/v1/scheduler/policy", new StringContent("""{"policy":"kube","polcy":"fgd"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("unknown field 'polcy'", await put.Content.ReadAsStringAsync());
    }
}
