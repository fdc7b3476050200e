"""The course on Zero to JupyterHub (deploy/kubernetes/): the chart's values, the image, the grader's pod.

Nothing here starts a cluster or builds the image (no container engine runs where the suite
does). What is checked is what can be read: the values parse and use only keys of the chart's
schema, with the chart's types (a subset of its values.schema.yaml, vendored in
tests/kubernetes/); the images the values and formgrader.yaml name are the targets the Dockerfile
builds, tagged with the course's version; the Dockerfile installs what the values rely on; every
path to the exchange agrees with nbgrader's exchange root; the hub's extra configuration runs and
gives every person of the roster their own uid, which the grader's pod can name.

The subset is regenerated from the chart's schema (read at the tag the values are for) with
``.venv/bin/python -m tests.test_kubernetes_deploy values.schema.yaml``.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no type information; installed with nbformat
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type information
from nbgrader.exchange.default.exchange import Exchange
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.exchange import COURSE_ID
from course_home.progress import CACHE_DIR
from hub.roster import Roster, RosterError, parse_roster, read_roster

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "kubernetes"
SUBSET = ROOT / "tests" / "kubernetes" / "z2jh_schema_subset.json"
IMAGE_ROOT = "/course"  # where the Dockerfile puts the repository (WORKDIR, COPY . /course)


# ---- reading the files ----------------------------------------------------------------------


def values() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "values.yaml is not a mapping"
    return loaded


def manifests() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / "formgrader.yaml").read_text(encoding="utf-8")) if doc]


def manifest(kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in manifests() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"formgrader.yaml has {len(found)} {kind} named {name}"
    return found[0]


def subset() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SUBSET.read_text(encoding="utf-8"))
    return loaded


def course_version() -> str:
    version: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return version


def dockerfile_stages(text: str) -> dict[str, list[str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped) by stage name."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    stages: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in joined.splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        start = re.fullmatch(r"FROM \S+ AS (\S+)", line, flags=re.IGNORECASE)
        if start:
            current = stages.setdefault(start.group(1), [])
        elif current is not None:
            current.append(line)
    return stages


def stages() -> dict[str, list[str]]:
    return dockerfile_stages((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))


def load_accounts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_accounts", DEPLOY / "accounts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing look modules up by name
    spec.loader.exec_module(module)
    return module


# ---- the chart's schema -----------------------------------------------------------------------

KEPT = ("type", "additionalProperties", "enum")


def prune(schema: dict[str, Any], used: Any) -> dict[str, Any]:
    """The part of a chart schema node that ``used`` (a value of the values file) touches: types and
    whether other keys are allowed, and, for the keys used, their own nodes; descriptions dropped."""
    node = {key: schema[key] for key in KEPT if key in schema and not isinstance(schema[key], dict)}
    if isinstance(used, dict):
        properties = schema.get("properties", {})
        kept = {key: prune(properties[key], value) for key, value in used.items() if key in properties}
        if kept:
            node["properties"] = kept
        patterns = {
            pattern: prune(sub, {})
            for pattern, sub in schema.get("patternProperties", {}).items()
            if any(re.search(pattern, key) for key in used if key not in properties)
        }
        if patterns:
            node["patternProperties"] = patterns
    return node


def schema_problems(tree: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """One message per place where ``tree`` breaks ``schema`` (a key the chart does not have, a type)."""
    validator = jsonschema.Draft7Validator(schema)
    return sorted(
        f"{'.'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
        for error in validator.iter_errors(tree)
    )


def test_the_values_parse_and_every_top_level_key_is_the_charts() -> None:
    tree = values()
    top_level = set(subset()["top_level_keys"])
    assert set(tree) <= top_level, f"not keys of the chart: {sorted(set(tree) - top_level)}"
    assert {"hub", "singleuser", "cull"} <= set(tree)


def test_the_values_use_only_the_charts_keys_with_its_types() -> None:
    problems = schema_problems(values(), subset()["schema"])
    assert not problems, "values.yaml against the chart's schema:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("singleuser", "image", "nmae"), "x", "'nmae' was unexpected"),
        (("singleuser", "extraVolumes"), [], "'extraVolumes' was unexpected"),  # it is singleuser.storage's
        (("hub", "servics"), {}, "'servics' was unexpected"),
        (("cull", "timeout"), "1h", "is not of type"),
        (("hub", "config", "nativeAuthenticator"), {}, "does not match any of the regexes"),
        (("proxyy",), {}, "'proxyy' was unexpected"),
    ],
)
def test_a_key_the_chart_does_not_have_is_reported(path: tuple[str, ...], value: Any, expected: str) -> None:
    """The check can fail: a misspelled or misplaced key, or a wrong type, is named."""
    tree = copy.deepcopy(values())
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    problems = schema_problems(tree, subset()["schema"])
    assert any(expected in problem for problem in problems), problems


def test_the_subset_is_the_one_the_values_need() -> None:
    """Pruning the vendored subset again with the values changes nothing: it holds no key the
    values do not use (so it stays small and says what was checked)."""
    recorded = subset()
    assert prune(recorded["schema"], values()) == recorded["schema"]


# ---- the image --------------------------------------------------------------------------------


def image_problems(tree: dict[str, Any], docs: list[dict[str, Any]], dockerfile: str, version: str) -> list[str]:
    """Where the images named by the values and formgrader.yaml are not the Dockerfile's targets
    tagged ``<version>-<target>``."""
    problems = []
    built = dockerfile_stages(dockerfile)
    labels = re.findall(r'org\.opencontainers\.image\.version="([^"]+)"', dockerfile)
    if labels != [version]:
        problems.append(f"the Dockerfile's version label is {labels}, the course's version {version}")
    singleuser = tree["singleuser"]["image"]
    if singleuser["tag"] != f"{version}-learner" or "learner" not in built:
        problems.append(f"singleuser.image.tag {singleuser['tag']!r} is not the learner target's {version}-learner")
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            expected = f"{singleuser['name']}:{version}-grader"
            if container["image"] != expected or "grader" not in built:
                problems.append(f"{container['name']} runs {container['image']}, not the grader target's {expected}")
    return problems


def test_the_images_are_the_dockerfiles_targets_tagged_with_the_course_version() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert not image_problems(values(), manifests(), dockerfile, course_version())


def test_an_image_of_another_version_is_reported() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    tree = copy.deepcopy(values())
    tree["singleuser"]["image"]["tag"] = "0.1.0-learner"
    assert any("singleuser.image.tag" in problem for problem in image_problems(tree, manifests(), dockerfile, "0.2.0"))
    problems = image_problems(values(), manifests(), dockerfile, "9.9.9")
    assert any("version label" in problem for problem in problems)
    assert any("formgrader runs" in problem for problem in problems)


def test_the_dockerfile_installs_what_the_values_rely_on() -> None:
    built = stages()
    assert set(built) == {"base", "learner-source", "learner", "grader"}, set(built)
    base, learner, grader = (" \n".join(built[name]) for name in ("base", "learner", "grader"))
    # The course's pins, read from pyproject.toml as course.py installs them; nbgrader among them.
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert any(dependency.startswith("nbgrader==") for dependency in dependencies)
    assert "COPY pyproject.toml" in base and "['project']['dependencies']" in base
    assert "pip install -r /etc/asyncio-course-requirements.txt" in base
    # jupyterhub-singleuser, at the version of the chart's hub.
    assert values()["singleuser"]["cmd"][0] == "jupyterhub-singleuser"
    hub_version = subset()["hub_image"]["jupyterhub"]
    assert f"ARG JUPYTERHUB_VERSION={hub_version}" in base and 'pip install "jupyterhub==${JUPYTERHUB_VERSION}"' in base
    # The course itself, installed as course.py start installs it, in both targets.
    for target in (learner, grader):
        assert "pip install --no-deps -e /course" in target
    # The grader grades: bubblewrap (Debian) and the Dask operator's client; the whole repository.
    assert re.search(r"apt-get install [^&]*\bbubblewrap\b", grader)
    assert "COPY . /course" in grader and "dask-kubernetes==" in grader
    # The authenticator and the culler are the hub's, in the chart's hub image, not in ours.
    authenticator = values()["hub"]["config"]["JupyterHub"]["authenticator_class"]
    assert authenticator.split(".")[0] == "nativeauthenticator"
    hub_image = subset()["hub_image"]
    assert "jupyterhub-nativeauthenticator" in hub_image and "jupyterhub-idle-culler" in hub_image


def test_the_learner_image_holds_the_learners_screen_and_not_the_answers() -> None:
    built = stages()
    learner, source = built["learner"], built["learner-source"]
    # The learner image takes the repository only from the stage that gathers a learner's part.
    assert [line for line in learner if line.startswith("COPY ") and "/etc/jupyter" not in line] == [
        f"COPY --from=learner-source {IMAGE_ROOT} {IMAGE_ROOT}"
    ]
    copies = [line.split()[1:-1] for line in source if line.startswith("COPY ")]
    sources = {path.rstrip("/") for line in copies for path in line}
    for needed in ("coursekit", "course_home", "autograder", "learner_screen", "course.toml", "pyproject.toml"):
        assert needed in sources, f"the learner target does not copy {needed}"
    for secret in (".", "solutions", "notebooks", "chapters", "tests", "tools", "instructor"):
        assert secret not in sources, f"the learner target copies {secret}"
    assert "RUN rm -rf autograder/reference_observations" in source
    # The screen values.yaml starts is the one copied, and a real file of the repository.
    config = values()["singleuser"]["cmd"][1].removeprefix("--config=")
    assert config.startswith(f"{IMAGE_ROOT}/learner_screen/")
    assert (ROOT / Path(config).relative_to(IMAGE_ROOT)).is_file()
    assert values()["singleuser"]["defaultUrl"] == "/course"  # course_home's page
    assert "COPY deploy/kubernetes/learner_nbgrader_config.py /etc/jupyter/nbgrader_config.py" in learner


# ---- the exchange and the course directory ----------------------------------------------------


def learner_config(home: str, user: str) -> Config:
    """The learner image's nbgrader_config.py as nbgrader loads it, in a pod of ``user``."""
    env = {"HOME": home, "JUPYTERHUB_USER": user}
    loader = PyFileConfigLoader("learner_nbgrader_config.py", path=str(DEPLOY))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("ASYNCIO_COURSE_EXCHANGE", raising=False)
        return loader.load_config()


def test_every_path_to_the_exchange_is_nbgraders_exchange_root() -> None:
    root = Exchange.root.default_value  # nbgrader's default: /srv/nbgrader/exchange
    tree = values()
    learner_mounts = tree["singleuser"]["storage"]["extraVolumeMounts"]
    learner_volumes = {volume["name"]: volume for volume in tree["singleuser"]["storage"]["extraVolumes"]}
    exchange_mounts = [mount for mount in learner_mounts if mount["mountPath"] == root]
    assert len(exchange_mounts) == 1, learner_mounts
    (exchange,) = exchange_mounts
    claim = learner_volumes[exchange["name"]]["persistentVolumeClaim"]["claimName"]
    assert tree["singleuser"]["extraEnv"]["ASYNCIO_COURSE_EXCHANGE"] == root
    assert f"ASYNCIO_COURSE_EXCHANGE={root}" in " ".join(stages()["base"])
    assert learner_config("/home/jovyan", "alan").Exchange.root == root
    # The grader's pod mounts the same folder of the same claim at the same place.
    pod = manifest("Deployment", "asyncio-course-formgrader")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    grader_volumes = {volume["name"]: volume for volume in pod["volumes"]}
    grader_exchange = [mount for mount in container["volumeMounts"] if mount["mountPath"] == root]
    assert len(grader_exchange) == 1 and grader_exchange[0].get("subPath") == exchange.get("subPath")
    assert grader_volumes[grader_exchange[0]["name"]]["persistentVolumeClaim"]["claimName"] == claim
    assert {"name": "ASYNCIO_COURSE_EXCHANGE", "value": root} in container["env"]
    volume = manifest("PersistentVolumeClaim", claim)
    assert volume["spec"]["accessModes"] == ["ReadWriteMany"]


def test_learners_mount_the_exchange_only_and_the_grader_the_course_directory() -> None:
    tree = values()
    assert [mount.get("subPath") for mount in tree["singleuser"]["storage"]["extraVolumeMounts"]] == ["exchange"]
    pod = manifest("Deployment", "asyncio-course-formgrader")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    course = [mount for mount in container["volumeMounts"] if mount.get("subPath") == "course"]
    # The course directory where the autograder finds it in the image: <repository>/instructor.
    assert [mount["mountPath"] for mount in course] == [f"{IMAGE_ROOT}/instructor"]
    assert (ROOT / "instructor" / "nbgrader_config.py").is_file()
    assert container["workingDir"] == f"{IMAGE_ROOT}/instructor"


def test_the_learners_nbgrader_config_names_them_and_keeps_their_record_where_the_home_page_reads_it() -> None:
    config = learner_config("/home/jovyan", "alan")
    assert config.CourseDirectory.course_id == COURSE_ID
    assert config.CourseDirectory.student_id == "alan"
    assert config.Exchange.assignment_dir == "/home/jovyan"
    assert config.Exchange.cache == f"/home/jovyan/{CACHE_DIR}"
    assert learner_config("/home/jovyan", "grace").CourseDirectory.student_id == "grace"


def test_the_formgrader_is_the_hub_service_named_after_the_course() -> None:
    tree = values()
    services = tree["hub"]["services"]
    assert list(services) == [COURSE_ID]
    service = manifest("Service", "asyncio-course-formgrader")
    port = service["spec"]["ports"][0]["port"]
    assert services[COURSE_ID]["url"] == f"http://{service['metadata']['name']}:{port}"
    pod = manifest("Deployment", "asyncio-course-formgrader")["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    env = {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}
    assert env["JUPYTERHUB_SERVICE_NAME"] == COURSE_ID
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == f"/services/{COURSE_ID}/"
    assert env["JUPYTERHUB_API_TOKEN"]["secretKeyRef"]["key"] == f"hub.services.{COURSE_ID}.apiToken"
    assert env["JUPYTERHUB_SERVICE_URL"].endswith(f":{port}")
    # nbgrader's group for the course's graders may open it, and nothing in values.yaml gives the
    # instructors the hub's admin role (which may open learners' servers).
    role = tree["hub"]["loadRoles"][f"formgrade-{COURSE_ID}"]
    assert role["groups"] == [f"formgrade-{COURSE_ID}"]
    assert f"access:services!service={COURSE_ID}" in role["scopes"]
    for name, spec in tree["hub"]["loadRoles"].items():
        assert name != "admin" and not {"access:servers", "tokens", "shares"} & set(spec["scopes"]), name


def test_idle_servers_are_culled() -> None:
    cull = values()["cull"]
    assert cull["enabled"] is True and 0 < cull["timeout"] <= 4 * 3600 and 0 < cull["every"] <= cull["timeout"]


# ---- every person's own uid ---------------------------------------------------------------------

EXAMPLE_ROSTER = ROOT / "hub" / "roster.example.toml"  # the one example, for one server and for the chart
MOUNTED = "roster.py"  # hub/roster.py in the ConfigMap, beside accounts.py


def configmap_files() -> dict[str, Path]:
    """The ConfigMap asyncio-course-roster's files, key -> the repository's file, as the README's
    steps make it (the class's roster.toml is a copy of the example); the mid-course replacement
    makes the same one."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"create configmap asyncio-course-roster(.*?)(?:`|\n\n)", readme, flags=re.DOTALL)
    made = [dict(re.findall(r"--from-file=([^=\s]+)=(\S+)", command)) for command in commands]
    assert len(made) == 2 and made[0] == made[1], made  # step 2, and step 6's replacement
    assert "copy `hub/roster.example.toml` to `roster.toml`" in readme
    sources = {**made[0], "roster.toml": str(EXAMPLE_ROSTER.relative_to(ROOT))}
    return {key: ROOT / source for key, source in sources.items()}


def mount_configmap(folder: Path) -> None:
    """The ConfigMap's files in ``folder``, as the chart mounts them."""
    files = configmap_files()
    assert set(files) == {"roster.toml", "accounts.py", MOUNTED}, set(files)
    for key, source in files.items():
        (folder / key).write_bytes(source.read_bytes())


def test_the_example_roster_gives_everyone_their_own_uid() -> None:
    accounts = load_accounts()
    # In the repository accounts.py reads rosters with hub/roster.py itself.
    assert (accounts.Roster, accounts.RosterError, accounts.read_roster) == (Roster, RosterError, read_roster)
    roster = accounts.read_roster(EXAMPLE_ROSTER)
    assert roster.instructors == ["ada"] and roster.learners == ["alan", "grace"]
    uids = accounts.account_uids(roster)
    assert len(set(uids.values())) == 3
    assert all(accounts.FIRST_UID <= uid < 2**31 for uid in uids.values())
    assert uids == accounts.account_uids(roster)  # the same on every hub start
    assert accounts.uid_of("alan") != 1000  # never the grader's account


def test_two_names_sharing_a_uid_or_an_image_account_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = load_accounts()
    roster = accounts.read_roster(EXAMPLE_ROSTER)
    with pytest.raises(accounts.RosterError, match=r"\['jovyan'\] are accounts of the image already"):
        accounts.passwd_text(
            "root:x:0:0::/root:/bin/sh\njovyan:x:1000:100::/home/jovyan:/bin/bash\n",
            parse_roster('[[instructor]]\nusername = "ada"\n[[learner]]\nusername = "jovyan"\n', "roster.toml"),
        )
    monkeypatch.setattr(accounts, "uid_of", lambda name: 100_001)
    with pytest.raises(accounts.RosterError, match="'ada' and 'alan' would share uid 100001"):
        accounts.account_uids(roster)


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('[[instructor]]\nusername = "ada"\n\n[[learner]]\nusername = "Alan"\n', "line 4: username 'Alan'"),
        ('[[learner]]\nusername = "alan"\n[[instructor]]\nusername = "alan"\n', "line 1: 'alan' is already on"),
        ('[[instructor]]\nusername = "ada"\n[[student]]\nusername = "alan"\n', "line 3: unknown table 'student'"),
        ('[[learner]]\nusername = "alan"\n', "names no [[instructor]]"),
    ],
)
def test_a_bad_roster_is_refused_with_the_hubs_message(tmp_path: Path, capsys: Any, text: str, wanted: str) -> None:
    """The formgrader's init step refuses a roster as ``course.py hub`` does: hub/roster.py's
    message, naming the file and the line."""
    path = tmp_path / "roster.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError) as refused:
        read_roster(path)
    assert wanted in str(refused.value)
    assert load_accounts().main(["passwd", str(path)]) == 1
    assert capsys.readouterr().err == f"accounts.py: {refused.value}\n"


def isolated_python(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The course's python run with ``args``, whose flags keep the repository off sys.path (-S: not
    even the editable install in site-packages), as in a pod where only the ConfigMap is mounted."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_graders_passwd_names_each_persons_uid(tmp_path: Path) -> None:
    """The formgrader's init step, run as the pod runs it: ``python3 accounts.py passwd``, with the
    ConfigMap's files mounted in a folder and the repository not importable (the grader image has
    the package ``hub`` installed; this is the fallback, the hub image's case)."""
    accounts = load_accounts()
    pod = manifest("Deployment", "asyncio-course-formgrader")["spec"]["template"]["spec"]
    (prepare,) = pod["initContainers"]
    mount = values()["hub"]["extraVolumeMounts"][0]["mountPath"]
    command = f"python3 {mount}/accounts.py passwd {mount}/roster.toml < /etc/passwd > /accounts/passwd"
    assert command in prepare["args"][0]  # the roster values.yaml mounts in the hub
    (container,) = pod["containers"]
    passwd = {"name": "accounts", "mountPath": "/etc/passwd", "subPath": "passwd", "readOnly": True}
    assert passwd in container["volumeMounts"]
    mount_configmap(tmp_path)
    base = "root:x:0:0:root:/root:/bin/bash\njovyan:x:1000:100::/home/jovyan:/bin/bash\n"
    # -E -s -S: the script's folder (the mount) first on sys.path, as python3 puts it in the pod.
    made = isolated_python(
        "-E",
        "-s",
        "-S",
        str(tmp_path / "accounts.py"),
        "passwd",
        str(tmp_path / "roster.toml"),
        cwd=tmp_path,
        stdin=base,
    )
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    assert lines[:2] == base.splitlines()
    named = {line.split(":")[2]: line.split(":")[0] for line in lines[2:]}
    assert named == {str(accounts.uid_of(name)): name for name in ("ada", "alan", "grace")}
    # Without roster.py in the mount, accounts.py cannot read a roster: it is the one it imports.
    (tmp_path / MOUNTED).unlink()
    broken = isolated_python("-E", "-s", "-S", str(tmp_path / "accounts.py"), "passwd", "roster.toml", cwd=tmp_path)
    assert "No module named 'roster'" in broken.stderr


# What the extraConfig snippet leaves in the hub's configuration, read in a python that has only the
# standard library and the mounted folder: ``c`` records what is set on it, as the chart's Config does.
EXTRA_CONFIG_PROBE = """
import json, sys
from types import SimpleNamespace

class Config:
    def __getattr__(self, name):
        section = SimpleNamespace()
        setattr(self, name, section)
        return section

c = Config()
snippet, names = sys.argv[1], sys.argv[2:]
exec(snippet, {"c": c})
print(json.dumps({
    "allowed_users": sorted(c.Authenticator.allowed_users),
    "admin_users": "admin_users" in vars(c.Authenticator),
    "load_groups": c.JupyterHub.load_groups,
    "uids": {name: c.KubeSpawner.uid(SimpleNamespace(user=SimpleNamespace(name=name))) for name in names},
    "gid": c.KubeSpawner.gid,
    "roster": sys.modules["roster"].__file__,
    "hub": "hub" in sys.modules,
    "path": sys.path,
}))
"""


def test_the_hubs_extra_config_runs_and_gives_each_pod_its_persons_uid(tmp_path: Path) -> None:
    """values.yaml's hub.extraConfig, run as the chart runs it (``c`` in its namespace), with the
    roster ConfigMap's three files where it mounts them, in a python where the repository cannot be
    imported: accounts.py reads the roster with the roster.py mounted beside it."""
    tree = values()
    mount = tree["hub"]["extraVolumeMounts"][0]
    assert mount["name"] == tree["hub"]["extraVolumes"][0]["name"]
    assert tree["hub"]["extraVolumes"][0]["configMap"]["name"] == "asyncio-course-roster"
    mount_configmap(tmp_path)
    (snippet,) = tree["hub"]["extraConfig"].values()
    assert mount["mountPath"] in snippet
    names = ["ada", "alan", "grace"]
    ran = isolated_python(
        "-I", "-S", "-c", EXTRA_CONFIG_PROBE, snippet.replace(mount["mountPath"], str(tmp_path)), *names, cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stderr
    hub = json.loads(ran.stdout)
    assert Path(hub["roster"]) == tmp_path / MOUNTED and not hub["hub"]
    assert str(ROOT) not in hub["path"] and hub["path"][0] == str(tmp_path)
    assert hub["allowed_users"] == names
    assert not hub["admin_users"]
    assert hub["load_groups"] == {f"formgrade-{COURSE_ID}": {"users": ["ada"]}}
    accounts = load_accounts()
    assert hub["uids"] == {name: accounts.uid_of(name) for name in names}
    assert hub["gid"] == accounts.GID == tree["singleuser"]["fsGid"]


def test_the_formgrader_init_step_prepares_the_shared_volume_as_the_grader() -> None:
    pod = manifest("Deployment", "asyncio-course-formgrader")["spec"]["template"]["spec"]
    (prepare,) = pod["initContainers"]
    (container,) = pod["containers"]
    script = prepare["args"][0]
    user = f"{container['securityContext']['runAsUser']}:{container['securityContext']['runAsGroup']}"
    assert f"chown {user} /shared/exchange /shared/course" in script
    assert f"{IMAGE_ROOT}/instructor/nbgrader_config.py /shared/course/nbgrader_config.py" in script
    assert shlex.split(script.splitlines()[0])[:3] == ["mkdir", "-p", "/shared/exchange"]


# ---- regenerating the vendored subset ---------------------------------------------------------


def write_subset(full_schema: Path) -> None:
    """Prune the chart's values.schema.yaml to what values.yaml uses, into tests/kubernetes/."""
    schema = yaml.safe_load(full_schema.read_text(encoding="utf-8"))
    recorded = subset() if SUBSET.exists() else {}
    recorded.update(
        {
            "top_level_keys": sorted(schema["properties"]),
            "schema": prune(schema, values()),
        }
    )
    SUBSET.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_subset(Path(sys.argv[1]))
