using System.Text.Json.Nodes;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.KubeApi;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>The pieces of the Kubernetes surface whose rules come from published specifications.</summary>
public sealed class KubeApiPartsTests
{
    /// <summary>RFC 7386 (JSON Merge Patch), Appendix A: original, patch, result.</summary>
    [Theory]
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"a":null}""", """{}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":["b"]}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"c"}""", """{"a":["b"]}""", """{"a":["b"]}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("""{}""", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    public void Merge_patch_follows_rfc_7386(string original, string patch, string expected)
    {
        var result = KubePatch.Merge(JsonNode.Parse(original), JsonNode.Parse(patch), strategic: false);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }

    /// <summary>RFC 6902 (JSON Patch), Appendix A: A.1-A.8, A.10, A.14 (escaped "~1"), A.16, and the root pointer "".</summary>
    [Theory]
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/baz","value":"qux"}]""", """{"baz":"qux","foo":"bar"}""")]
    [InlineData("""{"foo":["bar","baz"]}""", """[{"op":"add","path":"/foo/1","value":"qux"}]""", """{"foo":["bar","qux","baz"]}""")]
    [InlineData("""{"baz":"qux","foo":"bar"}""", """[{"op":"remove","path":"/baz"}]""", """{"foo":"bar"}""")]
    [InlineData("""{"foo":["bar","qux","baz"]}""", """[{"op":"remove","path":"/foo/1"}]""", """{"foo":["bar","baz"]}""")]
    [InlineData("""{"baz":"qux","foo":"bar"}""", """[{"op":"replace","path":"/baz","value":"boo"}]""", """{"baz":"boo","foo":"bar"}""")]
    [InlineData("""{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}""", """[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]""",
        """{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}""")]
    [InlineData("""{"foo":["all","grass","cows","eat"]}""", """[{"op":"move","from":"/foo/1","path":"/foo/3"}]""", """{"foo":["all","cows","eat","grass"]}""")]
    [InlineData("""{"baz":"qux","foo":["a",2,"c"]}""", """[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]""", """{"baz":"qux","foo":["a",2,"c"]}""")]
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/child","value":{"grandchild":{}}}]""", """{"foo":"bar","child":{"grandchild":{}}}""")]
    [InlineData("""{"/":9,"~1":10}""", """[{"op":"test","path":"/~01","value":10},{"op":"copy","from":"/~1","path":"/c"}]""", """{"/":9,"~1":10,"c":9}""")]
    [InlineData("""{"foo":["bar"]}""", """[{"op":"add","path":"/foo/-","value":["abc","def"]}]""", """{"foo":["bar",["abc","def"]]}""")]
    [InlineData("""{"foo":1}""", """[{"op":"replace","path":"","value":{"bar":2}}]""", """{"bar":2}""")]
    public void Json_patch_follows_rfc_6902(string original, string patch, string expected)
    {
        var operations = (JsonArray)JsonNode.Parse(patch)!;
        Assert.Null(KubeJsonPatch.Malformed(operations));
        var result = KubeJsonPatch.Apply(JsonNode.Parse(original)!, operations);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }

    /// <summary>
    /// Go's strconv.Quote, which %q and %#v print strings with: src/strconv/quote_test.go's quotetests (all but the invalid
    /// UTF-8 byte, which a .NET string cannot hold) and quoterunetests' ÿ and U+FFFD; DEL as \x7f (src/strconv/quote.go,
    /// appendEscapedRune: r &lt; ' ' || r == 0x7f); a lone surrogate as Go's JSON decoding leaves it, U+FFFD.
    /// </summary>
    [Theory]
    [InlineData("\a\b\f\r\n\t\v", "\"\\a\\b\\f\\r\\n\\t\\v\"")]
    [InlineData("\\", "\"\\\\\"")]
    [InlineData("a\"b", "\"a\\\"b\"")]
    [InlineData("\u263a", "\"\u263a\"")]
    [InlineData("\U0010ffff", "\"\\U0010ffff\"")]
    [InlineData("\u0004", "\"\\x04\"")]
    [InlineData("!\u00a0!\u2000!\u3000!", "\"!\\u00a0!\\u2000!\\u3000!\"")]
    [InlineData("\u007f", "\"\\x7f\"")]
    [InlineData("\u00ff", "\"\u00ff\"")]
    [InlineData("\ufffd", "\"\ufffd\"")]
    public void Strings_are_quoted_as_gos_strconv_quote_quotes_them(string text, string expected) => Assert.Equal(expected, GoValues.Quoted(text));

    /// <summary>
    /// What %+v prints for a strategic merge patch the API server could not decode (patch.go, applyPatchToObject:
    /// fmt.Sprintf("%+v", patchMap) of the map sigs.k8s.io/json decoded it into, ints kept as int64). Expected values by
    /// hand from Go's rules: a map printed map[k:v ...] with its keys sorted by byte (src/fmt/print.go printValue,
    /// internal/fmtsort), a slice [a b], nil &lt;nil&gt;; a float64 by strconv's shortest 'g' (src/strconv/ftoa.go:
    /// %e form when the exponent is below -4 or at least 6, two exponent digits at least), as ftoa_test.go's
    /// {1e6, 'g', -1, "1e+06"} and {100000, 'g', -1, "100000"}; a number of integer text beyond int64 is a float64.
    /// </summary>
    [Theory]
    [InlineData("""{"b":1,"a":"x"}""", "map[a:x b:1]")]
    [InlineData("""{"spec":{"containers":[{"name":5}]}}""", "map[spec:map[containers:[map[name:5]]]]")]
    [InlineData("""{"a":null,"b":true,"c":[],"d":{},"e":false}""", "map[a:<nil> b:true c:[] d:map[] e:false]")]
    [InlineData("""{"f":0.5,"g":1e6,"h":1234567.0,"i":123456.0,"j":0.0001,"k":0.00001,"l":-0.0,"m":1.5e300}""",
        "map[f:0.5 g:1e+06 h:1.234567e+06 i:123456 j:0.0001 k:1e-05 l:-0 m:1.5e+300]")]
    [InlineData("""{"min":-9223372036854775808,"over":9223372036854775808,"zero":-0}""", "map[min:-9223372036854775808 over:9.223372036854776e+18 zero:0]")]
    [InlineData("{\"\u00e9\":1,\"z\":2,\"\uff01\":3,\"\ud83d\ude00\":4}", "map[z:2 \u00e9:1 \uff01:3 \U0001F600:4]")]
    public void Patch_maps_are_printed_as_gos_plus_v_prints_them(string patch, string expected) =>
        Assert.Equal(expected, GoValues.PlusV(JsonNode.Parse(patch)));

    /// <summary>
    /// %#v sorts a map's keys as %+v does, by bytes (fmt's internal/fmtsort compares strings with cmp.Compare): U+FF01 is
    /// EF BC 81 in UTF-8, U+1F600 F0 9F 98 80, so U+FF01 first, though UTF-16's ordinal order puts the surrogate pair first.
    /// </summary>
    [Fact]
    public void Map_keys_are_sorted_by_bytes_as_go_sorts_them() =>
        Assert.Equal("map[string]string{\"z\":\"1\", \"\uff01\":\"2\", \"\U0001F600\":\"3\"}",
            GoValues.Map(new Dictionary<string, string> { ["\ud83d\ude00"] = "3", ["\uff01"] = "2", ["z"] = "1" }));

    /// <summary>
    /// Go's json.Marshal (src/encoding/json/encode.go, appendString): UTF-8 written as it is (é, U+1F600), + and ' as they
    /// are, &lt; &gt; &amp; U+2028 U+2029 and a control as \u00hh/\uhhhh in lower case, \n by name, quote and backslash backslashed.
    /// </summary>
    [Theory]
    [InlineData("{\"a\":\"caf\u00e9 \ud83d\ude00 +'\"}", "{\"a\":\"caf\u00e9 \ud83d\ude00 +'\"}")]
    [InlineData("{\"a\":\"<b>&\u2028\u2029\"}", "{\"a\":\"\\u003cb\\u003e\\u0026\\u2028\\u2029\"}")]
    [InlineData("{\"a\":\"\\n\\u001f\\\"\\\\\"}", "{\"a\":\"\\n\\u001f\\\"\\\\\"}")]
    [InlineData("{\"\u00e9\":[1,null,true]}", "{\"\u00e9\":[1,null,true]}")]
    public void Json_is_written_as_gos_json_marshal_writes_it(string json, string expected) => Assert.Equal(expected, GoValues.Json(JsonNode.Parse(json)));

    /// <summary>Apart from the theory: an attribute's string is stored as UTF-8, which cannot carry a lone surrogate.</summary>
    [Fact]
    public void A_lone_surrogate_is_quoted_as_the_replacement_character() => Assert.Equal("\"a\ufffdb\"", GoValues.Quoted("a\ud800b"));

    /// <summary>RFC 6902 A.9 (a failed test), A.12 (adding to a nonexistent target), an index past the end, a leading zero.</summary>
    [Theory]
    [InlineData("""{"baz":"qux"}""", """[{"op":"test","path":"/baz","value":"bar"}]""")]
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/baz/bat","value":"qux"}]""")]
    [InlineData("""{"foo":["a"]}""", """[{"op":"add","path":"/foo/2","value":"b"}]""")]
    [InlineData("""{"foo":["a","b"]}""", """[{"op":"remove","path":"/foo/01"}]""")]
    public void Json_patch_operations_that_do_not_apply_are_refused(string original, string patch) =>
        Assert.Throws<KubePatch.InvalidPatchException>(() => KubeJsonPatch.Apply(JsonNode.Parse(original)!, (JsonArray)JsonNode.Parse(patch)!));

    [Fact]
    public void Strategic_merge_patch_merges_named_lists_by_name_and_skips_directives()
    {
        var original = JsonNode.Parse("""{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}""");
        var patch = JsonNode.Parse("""{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"spec":{"containers":[{"name":"b","image":"z"},{"name":"a","$patch":"delete"}]}}""");
        var result = KubePatch.Merge(original, patch, strategic: true);
        Assert.Equal("""{"spec":{"containers":[{"name":"b","image":"z"}]}}""", result!.ToJsonString());
    }

    /// <summary>
    /// "$patch" as staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go applies it: in an object, "replace"
    /// is the patch's own fields and "delete" an empty object (handleDirectiveInMergeMap); in a list, a "replace"
    /// element makes the list the patch's other elements (mergeSliceWithSpecialElements).
    /// </summary>
    [Theory]
    [InlineData("""{"spec":{"a":0,"b":2}}""", """{"spec":{"$patch":"replace","a":1}}""", """{"spec":{"a":1}}""")]
    [InlineData("""{"spec":{"a":0,"b":2}}""", """{"spec":{"$patch":"delete"}}""", """{"spec":{}}""")]
    [InlineData("""{"c":[{"name":"a"},{"name":"b"}]}""", """{"c":[{"$patch":"replace"},{"name":"x","v":1}]}""", """{"c":[{"name":"x","v":1}]}""")]
    public void Strategic_merge_patch_directives_replace_and_delete(string original, string patch, string expected)
    {
        var result = KubePatch.Merge(JsonNode.Parse(original), JsonNode.Parse(patch), strategic: true);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }

    /// <summary>
    /// "$retainKeys" as applyRetainKeysDirective (apimachinery strategicpatch/patch.go) applies it: the target's keys it
    /// does not list go; one that is not a list, or that does not name a key the patch sets to a value (a null is exempt),
    /// is mergepatch.ErrBadPatchFormatForRetainKeys, "invalid patch format of retainKeys", which the API server answers 400
    /// (interpretStrategicMergePatchError). Both were taken: the first dropped nothing, the second merged the key anyway.
    /// </summary>
    [Theory]
    [InlineData("""{"s":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}""", """{"s":{"$retainKeys":["type"],"type":"Recreate"}}""", """{"s":{"type":"Recreate"}}""")]
    [InlineData("""{"s":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}""", """{"s":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}""", """{"s":{"type":"Recreate"}}""")]
    [InlineData("""{"s":{"type":"RollingUpdate"}}""", """{"s":{"$retainKeys":"type","type":"Recreate"}}""", null)]
    [InlineData("""{"s":{"type":"RollingUpdate"}}""", """{"s":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":{"maxSurge":1}}}""", null)]
    public void Strategic_merge_patch_retain_keys(string original, string patch, string? expected)
    {
        if (expected is null)
        {
            var bad = Assert.Throws<KubePatch.InvalidPatchException>(() => KubePatch.Merge(JsonNode.Parse(original), JsonNode.Parse(patch), strategic: true));
            Assert.Equal("invalid patch format of retainKeys", bad.Message);
            return;
        }
        var result = KubePatch.Merge(JsonNode.Parse(original), JsonNode.Parse(patch), strategic: true);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }

    /// <summary>k8s.io/apimachinery/pkg/labels selector syntax (pkg/labels/selector.go: Parse and Requirement.Matches).</summary>
    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web,tier=front", true)]
    [InlineData("app!=web", false)]
    [InlineData("app in (web,db)", true)]
    [InlineData("app notin (web,db)", false)]
    [InlineData("tier", true)]
    [InlineData("!tier", false)]
    [InlineData("!gpu", true)]
    [InlineData("app in (db), tier", false)]
    [InlineData("", true)]
    [InlineData("  ", true)]
    [InlineData("app in (db,,web)", true)]
    [InlineData("app notin ()", true)]
    [InlineData("gpu notin (a)", true)]
    [InlineData("gpu!=a", true)]
    [InlineData("gpu=", false)]
    [InlineData("app in (in),tier", false)]
    [InlineData("replicas>3", true)]
    [InlineData("replicas<3", false)]
    [InlineData("app>3", false)]
    [InlineData("!gpu,app=web", true)]
    public void Label_selectors_match_as_kubernetes_does(string selector, bool matches)
    {
        Assert.Null(KubeSelector.TryParseLabels(selector, out var parsed));
        Assert.Equal(matches, parsed.Matches(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front", ["replicas"] = "4" }));
    }

    /// <summary>
    /// What apimachinery's label selector parser refuses, and its words (pkg/labels/selector.go, Parser.parse and
    /// parseRequirement): each was accepted before, "!app=web" as "app=web absent" (every pod listed), the others
    /// selecting nothing.
    /// </summary>
    [Theory]
    [InlineData("!app=web", "found '=', expected: ',' or 'end of string'")]
    [InlineData("a=b=c", "found '=', expected: ',' or 'end of string'")]
    [InlineData("app=we b", "found 'b', expected: ',' or 'end of string'")]
    [InlineData("a b=c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData(",,,", "found ',', expected: !, identifier, or 'end of string'")]
    [InlineData("app=web,", "found '', expected: identifier after ','")]
    [InlineData("app in web", "unable to parse requirement: found 'web' expected: '('")]
    [InlineData("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'")]
    [InlineData("!", "unable to parse requirement: found '', expected: identifier")]
    [InlineData("replicas>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer")]
    public void Malformed_label_selectors_are_refused_in_the_api_servers_words(string selector, string error) =>
        Assert.Equal(error, KubeSelector.TryParseLabels(selector, out _));

    /// <summary>Keys are qualified names and values label values (NewRequirement's validateLabelKey / validateLabelValue).</summary>
    [Theory]
    [InlineData("Bad@Key=x", "label key 'Bad@Key'")]
    [InlineData("app=we@b", "values[0][app] 'we@b'")]
    [InlineData("app in (ok,-no)", "values[1][app] '-no'")]
    public void Label_selector_keys_and_values_follow_the_label_syntax(string selector, string error)
    {
        var refused = KubeSelector.TryParseLabels(selector, out _);
        Assert.NotNull(refused);
        Assert.StartsWith($"unable to parse requirement: {error}", refused);
    }

    [Fact]
    public void Field_selectors_allow_only_supported_fields()
    {
        var fields = new HashSet<string> { "spec.nodeName", "status.phase" };
        Assert.Null(KubeSelector.TryParseFields("spec.nodeName=n1,status.phase!=Failed", fields, out var selector));
        Assert.True(selector.Matches(f => f == "spec.nodeName" ? "n1" : "Running"));
        Assert.False(selector.Matches(f => f == "spec.nodeName" ? "n1" : "Failed"));
        Assert.Equal("field label not supported: spec.hostIP", KubeSelector.TryParseFields("spec.hostIP=1.2.3.4", fields, out _));
    }

    /// <summary>The AGE column: expected values worked by hand from HumanDuration in k8s.io/apimachinery/pkg/util/duration/duration.go.</summary>
    [Theory]
    [InlineData(1, "1s")]
    [InlineData(70, "70s")]
    [InlineData(190, "3m10s")]
    [InlineData(300, "5m")]
    [InlineData(11 * 60, "11m")]
    [InlineData(3 * 3600 + 30 * 60, "3h30m")]
    [InlineData(10 * 3600, "10h")]
    [InlineData(3 * 86400 + 2 * 3600, "3d2h")]
    [InlineData(8 * 86400, "8d")]
    [InlineData(2 * 365 * 86400 + 4 * 86400, "2y4d")]
    public void Age_is_printed_as_kubectl_prints_it(long seconds, string expected)
    {
        var now = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(expected, KubeTables.Age(now.AddSeconds(-seconds).UtcDateTime, now));
    }

    [Theory]
    [InlineData("default", "train", "train")]
    [InlineData("ml", "train", "ml.train")]
    public void Default_namespace_is_the_rest_apis_space_and_others_are_prefixed(string ns, string name, string key)
    {
        Assert.Equal(key, KubernetesNames.Key(ns, name));
        Assert.Equal((ns, name), KubernetesNames.Split(key));
    }

    /// <summary>
    /// generateName as the API server fills it in (apiserver pkg/storage/names/generate.go: the prefix cut to 58
    /// characters, then five of apimachinery pkg/util/rand's characters).
    /// </summary>
    [Fact]
    public void Generated_names_are_the_prefix_and_five_random_characters_within_63()
    {
        var random = new Random(7);
        Assert.Matches("^web-[bcdfghjklmnpqrstvwxz2456789]{5}$", KubeGeneratedNames.Next("web-", random));
        var longest = KubeGeneratedNames.Next(new string('a', 80), random);
        Assert.Equal(63, longest.Length);
        Assert.StartsWith(new string('a', 58), longest);
    }

    /// <summary>A taken generated name is replaced by a fresh one, up to the registry's 8 attempts (apiserver registry/store.go).</summary>
    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 4)]
    [InlineData(20, 8)]
    public async Task A_taken_generated_name_is_tried_again_up_to_eight_times(int taken, int attempts)
    {
        var tried = new List<string>();
        var result = await KubeGeneratedNames.Create(null, "gen-", name =>
        {
            tried.Add(name);
            return Task.FromResult(tried.Count > taken);
        }, created => !created, new Random(1));
        Assert.Equal(attempts, tried.Count);
        Assert.Equal(taken < attempts, result);
        Assert.Equal(tried.Count, tried.Distinct().Count());
    }

    [Fact]
    public async Task A_given_name_is_used_once_whatever_the_generate_name()
    {
        var tried = new List<string>();
        await KubeGeneratedNames.Create("named", "ignored-", n => { tried.Add(n); return Task.FromResult(false); }, created => !created, new Random(1));
        Assert.Equal(["named"], tried);
    }

    /// <summary>
    /// Request paths as the API server reads them (apiserver pkg/endpoints/request/requestinfo.go): parts past the
    /// subresource are ignored (its third part is the subresource however many follow).
    /// </summary>
    [Theory]
    [InlineData("/api/v1/namespaces/ml/pods/p1/eviction", "pods", "ml", "p1")]
    [InlineData("/api/v1/namespaces/ml/pods/p1/eviction/more", "pods", "ml", "p1")]
    [InlineData("/api/v1/namespaces/ml/pods", "pods", "ml", null)]
    [InlineData("/apis/apps/v1/namespaces/default/deployments/web/scale", "deployments.apps", "default", "web")]
    [InlineData("/api/v1/nodes/n1", "nodes", null, "n1")]
    [InlineData("/api/v1/namespaces/team1", "namespaces", null, "team1")]
    [InlineData("/api/v1/namespaces", "namespaces", null, null)]
    public void Request_paths_name_their_resource_namespace_and_object(string path, string resource, string? ns, string? name)
    {
        var parsed = KubePath.Parse(path);
        Assert.NotNull(parsed);
        Assert.Equal((resource, ns, name), (parsed.QualifiedResource, parsed.Namespace, parsed.Name));
    }

    [Theory]
    [InlineData("/version")]
    [InlineData("/api")]
    [InlineData("/apis/apps")]
    public void Paths_that_name_no_resource_parse_to_nothing(string path) => Assert.Null(KubePath.Parse(path));
    /// <summary>
    /// An object whose deletion has begun but not finished carries metadata.deletionTimestamp (RFC 3339), set when the
    /// deletion is asked for (apiserver pkg/registry/rest/delete.go, BeforeDelete), so clients see it going. A workload
    /// whose deletion is unfinished (a pod deletion failed part way: WorkloadDeletionFailureTests) was served as a
    /// deployment like any other; one not being deleted has none.
    /// </summary>
    [Fact]
    public void A_deployment_whose_deletion_is_unfinished_is_served_with_its_deletion_timestamp()
    {
        var template = new MasOrleans.Scheduling.Model.PodSpec { Name = "ml.web", Namespace = "ml" };
        var requested = new DateTimeOffset(2026, 12, 6, 7, 8, 9, TimeSpan.Zero);
        var view = new MasOrleans.Abstractions.Contracts.WorkloadView("ml.web", 0, 0, template, [], DeletionRequestedAt: requested);

        var served = KubeJson.ToNode(KubeDeploymentObjects.ToDeployment(view, "7"));
        Assert.Equal("2026-12-06T07:08:09Z", served["metadata"]?["deletionTimestamp"]?.GetValue<string>());
        var live = KubeJson.ToNode(KubeDeploymentObjects.ToDeployment(view with { DeletionRequestedAt = null }, "7"));
        Assert.Null(live["metadata"]?["deletionTimestamp"]);
    }
}
