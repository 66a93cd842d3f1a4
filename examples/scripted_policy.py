"""vlalab's scripted pick-and-place expert (tasks/expert.ts), ported to Python.

It reads the privileged state vlalab sends to a remote policy that asks for it
(tasks/privileged.ts: the TCP pose, the gripper, the object and its target
from physics), and emits the same bounded delta actions through the same
state machine: approach -> descend -> close -> lift -> transport -> lower ->
release -> retreat -> (two successful checks) terminate, re-planning when a
grasp slips. The port keeps the TypeScript expert's order of operations, so
over the wire it takes the same actions, step for step.

Standard library only. This is the policy behind examples/remote_policy_server.py;
put a learned model in its place to evaluate it in vlalab.
"""
import math

HOVER = 0.12  # TCP height for travel (object bottom clears bowls and objects)
CLOSE_STEPS = 3
RELEASE_STEPS = 3
OPEN_GAP = 0.088  # finger gap (m) at which an opening gripper clears a released 4 cm part
MAX_ATTEMPTS = 4
SETTLE_STEPS = 4  # steps to wait up at hover for a released part to come to rest
Z_MIN = 0.02  # sim/config.ts TCP_LIMITS.zMin
BOWL_WALL_HEIGHT = 0.03  # sim/config.ts BOWL.wallHeight
OBJECT_HALF = 0.02  # sim/config.ts OBJECT.half

# The action spec this policy emits (and declares in the handshake): sim/config.ts.
ACTION_NAMES = ["dx", "dy", "dz", "dyaw", "gripper", "terminate"]
ACTION_UNITS = ["m", "m", "m", "rad", "1", "1"]
ACTION_LOW = [-0.025, -0.025, -0.025, -0.25, 0.0, 0.0]
ACTION_HIGH = [0.025, 0.025, 0.025, 0.25, 1.0, 1.0]


def wrap_angle(a):
    """To (-pi, pi], as sim/world.ts wrapAngle (fmod keeps JavaScript's % sign rule)."""
    t = math.fmod(a + math.pi, 2 * math.pi)
    return (t + 2 * math.pi if t <= 0 else t) - math.pi


def to_action(tcp, goal, grip, terminate):
    x, y, z, yaw = tcp

    def clip(v, i):
        return max(-ACTION_HIGH[i], min(ACTION_HIGH[i], v))

    return [clip(goal[0] - x, 0), clip(goal[1] - y, 1), clip(goal[2] - z, 2), clip(wrap_angle(goal[3] - yaw), 3), float(grip), float(terminate)]


class ScriptedPolicy:
    """One episode's state machine; act() takes the privileged state of one observation."""

    def __init__(self):
        self.phase = "approach"
        self.counter = 0
        self.attempts = 0
        self.grasp_yaw = 0.0
        self.waited = 0

    def act(self, st):
        # A completed phase hands over within the same control step: no idle actions.
        for _ in range(8):
            r = self.plan(st)
            if isinstance(r, str):
                self.phase = r
            else:
                return r
        raise RuntimeError("phase machine did not settle (phase %s)" % self.phase)

    def retry(self):
        self.attempts += 1
        return "done" if self.attempts >= MAX_ATTEMPTS else "approach"

    @staticmethod
    def place_target(st):
        """Where to put the object: over the bowl centre, or on top of the stack's base."""
        t = st["target"]["pos"]
        if st["family"] == "pick_place":
            return t[0], t[1], BOWL_WALL_HEIGHT + OBJECT_HALF + 0.02
        return t[0], t[1], t[2] + 2 * OBJECT_HALF + 0.006

    def plan(self, st):
        """The action of the current phase, or the name of the phase to switch to now."""
        tcp = st["tcp"]
        x, y, z, yaw = tcp["x"], tcp["y"], tcp["z"], tcp["yaw"]
        obj = st["object"]["pos"]
        grasped = st["object"]["grasped"]
        tx, ty, release_z = self.place_target(st)

        def at(g, tol=0.004):
            return math.hypot(g[0] - x, g[1] - y) < tol and abs(g[2] - z) < 0.004 and abs(wrap_angle(g[3] - yaw)) < 0.03

        def move(goal, grip, terminate=0):
            return to_action((x, y, z, yaw), goal, grip, terminate)

        stay = [x, y, z, yaw]
        p = self.phase
        if p == "approach":
            self.grasp_yaw = yaw
            # Rise first when low (after a failed attempt), then travel at hover height.
            far = math.hypot(obj[0] - x, obj[1] - y) > 0.01
            if z < HOVER - 0.02 and far:
                return move([x, y, HOVER, yaw], 0)
            goal = [obj[0], obj[1], HOVER, self.grasp_yaw]
            return "descend" if at(goal) else move(goal, 0)
        if p == "descend":
            goal = [obj[0], obj[1], max(Z_MIN, obj[2] + 0.002), self.grasp_yaw]
            if at(goal, 0.006):
                self.counter = 0
                return "close"
            return move(goal, 0)
        if p == "close":
            if st["gripper_command"] > 0.5 and grasped:
                return "lift"
            c, self.counter = self.counter, self.counter + 1
            return self.retry() if c >= CLOSE_STEPS else move(stay, 1)
        if p == "lift":
            if not grasped:
                return self.retry()
            goal = [x, y, HOVER, yaw]
            return "transport" if at(goal) else move(goal, 1)
        if p == "transport":
            # Aim the object (not the TCP) at the target: the grasp rarely centres it.
            if not grasped:
                return self.retry()
            goal = [tx - (obj[0] - x), ty - (obj[1] - y), HOVER, yaw]
            if not at(goal, 0.003):
                return move(goal, 1)
            self.counter = 0
            return "lower"
        if p == "lower":
            goal = [tx - (obj[0] - x), ty - (obj[1] - y), release_z, yaw]
            if not at(goal):
                return move(goal, 1)
            still = math.hypot(*st["object"]["linvel"]) < 0.03
            if not still:
                self.counter += 1
                if self.counter <= 8:
                    return move(goal, 1)
            self.counter = 0
            return "release"
        if p == "release":
            opened = st["gripper_command"] < 0.5 and st["gap"] > OPEN_GAP
            if not opened:
                c, self.counter = self.counter, self.counter + 1
            if opened or c >= RELEASE_STEPS:
                self.counter = 0
                self.waited = 0
                return "retreat"
            return move(stay, 0)
        if p == "retreat":
            # Terminate after two successive successful checks on the way up.
            goal = [x, y, HOVER, yaw]
            if z > release_z + 0.02:
                self.counter = self.counter + 1 if st["success"] else 0
            if self.counter >= 2:
                return "done"
            if not at(goal):
                return move(goal, 0)
            if self.counter == 0:
                self.waited += 1
                if self.waited > SETTLE_STEPS:
                    return self.retry()
            return move(goal, 0)
        return move(stay, 0, 1)  # done
