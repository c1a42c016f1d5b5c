"""The gallery's order: the course's, not the file names' (imported by name from conf.py)."""

#: The assignments in the order the two courses teach them.
COURSE_ORDER = (
    "plot_week2_logistic_regression.py",
    "plot_week3_planar_flower.py",
    "plot_week4_deep_cat.py",
    "plot_course2_initialization.py",
    "plot_course2_regularization.py",
    "plot_course2_optimization.py",
)


class CourseOrder:
    """sphinx-gallery's ``within_subsection_order``: a key placing each example file at
    its assignment's position; files not listed go last, by name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = filename.rsplit("/", 1)[-1]
        rank = COURSE_ORDER.index(name) if name in COURSE_ORDER else len(COURSE_ORDER)
        return rank, name

    def __repr__(self) -> str:
        return "CourseOrder"
