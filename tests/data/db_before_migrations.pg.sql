--
-- PostgreSQL database dump
--

\restrict yMLKGt1GwBaSbu95LhpNCpe6x35ngfxV9OZbWWk03zRpYqSJHAsWzG0q2deiGfa

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: api_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_tokens (
    token_hash character varying(64) NOT NULL,
    name character varying(64) NOT NULL,
    role character varying(16) NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: conversation_orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversation_orders (
    conversation_id character varying(64) NOT NULL,
    facts text NOT NULL,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: conversations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversations (
    id character varying(64) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: feedback; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.feedback (
    id integer NOT NULL,
    conversation_id character varying(64) NOT NULL,
    message_id integer,
    event character varying(16) NOT NULL,
    entry_id character varying(100),
    rank integer,
    score double precision,
    final_text text,
    edit_distance integer,
    intent character varying(64),
    created_at timestamp without time zone NOT NULL
);


--
-- Name: feedback_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.feedback_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: feedback_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.feedback_id_seq OWNED BY public.feedback.id;


--
-- Name: kb_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kb_changes (
    seq integer NOT NULL,
    entry_id character varying(100),
    created_at timestamp without time zone NOT NULL
);


--
-- Name: kb_changes_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.kb_changes_seq_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: kb_changes_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.kb_changes_seq_seq OWNED BY public.kb_changes.seq;


--
-- Name: kb_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kb_entries (
    id character varying(100) NOT NULL,
    intent character varying(64) NOT NULL,
    status character varying(16) NOT NULL,
    tags text NOT NULL,
    answer text NOT NULL,
    version integer NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    updated_by character varying(64) NOT NULL
);


--
-- Name: kb_meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kb_meta (
    key character varying(64) NOT NULL,
    value text NOT NULL
);


--
-- Name: kb_pending; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kb_pending (
    entry_id character varying(100) NOT NULL,
    intent character varying(64) NOT NULL,
    tags text NOT NULL,
    questions text NOT NULL,
    answer text NOT NULL
);


--
-- Name: kb_questions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kb_questions (
    entry_id character varying(100) NOT NULL,
    "position" integer NOT NULL,
    text text NOT NULL
);


--
-- Name: kb_revisions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kb_revisions (
    entry_id character varying(100) NOT NULL,
    version integer NOT NULL,
    action character varying(16) NOT NULL,
    status character varying(16) NOT NULL,
    intent character varying(64) NOT NULL,
    tags text NOT NULL,
    questions text NOT NULL,
    answer text NOT NULL,
    author character varying(64) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    note text
);


--
-- Name: live_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.live_events (
    id integer NOT NULL,
    origin character varying(32) NOT NULL,
    target character varying(80) NOT NULL,
    payload text NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: live_events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.live_events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: live_events_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.live_events_id_seq OWNED BY public.live_events.id;


--
-- Name: messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages (
    id integer NOT NULL,
    conversation_id character varying(64) NOT NULL,
    role character varying(16) NOT NULL,
    text text NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: messages_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.messages_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: messages_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.messages_id_seq OWNED BY public.messages.id;


--
-- Name: password_changes_due; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.password_changes_due (
    user_name character varying(64) NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    token_hash character varying(64) NOT NULL,
    user_name character varying(64) NOT NULL,
    csrf character varying(64) NOT NULL,
    expires_at timestamp without time zone NOT NULL
);


--
-- Name: shop_profile; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shop_profile (
    key character varying(64) NOT NULL,
    "position" integer NOT NULL,
    value text NOT NULL
);


--
-- Name: traffic_reviewed; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.traffic_reviewed (
    message_id integer NOT NULL,
    decision character varying(16) NOT NULL,
    entry_id character varying(100),
    author character varying(64) NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: traffic_reviewed_message_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.traffic_reviewed_message_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: traffic_reviewed_message_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.traffic_reviewed_message_id_seq OWNED BY public.traffic_reviewed.message_id;


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    name character varying(64) NOT NULL,
    role character varying(16) NOT NULL,
    password_hash text NOT NULL,
    created_at timestamp without time zone NOT NULL
);


--
-- Name: feedback id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.feedback ALTER COLUMN id SET DEFAULT nextval('public.feedback_id_seq'::regclass);


--
-- Name: kb_changes seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_changes ALTER COLUMN seq SET DEFAULT nextval('public.kb_changes_seq_seq'::regclass);


--
-- Name: live_events id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.live_events ALTER COLUMN id SET DEFAULT nextval('public.live_events_id_seq'::regclass);


--
-- Name: messages id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages ALTER COLUMN id SET DEFAULT nextval('public.messages_id_seq'::regclass);


--
-- Name: traffic_reviewed message_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.traffic_reviewed ALTER COLUMN message_id SET DEFAULT nextval('public.traffic_reviewed_message_id_seq'::regclass);


--
-- Data for Name: api_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.api_tokens (token_hash, name, role, created_at) FROM stdin;
\.


--
-- Data for Name: conversation_orders; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.conversation_orders (conversation_id, facts, updated_at) FROM stdin;
\.


--
-- Data for Name: conversations; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.conversations (id, created_at, updated_at) FROM stdin;
c-legacy	2026-12-02 00:25:17.745859	2026-12-02 00:25:17.766841
\.


--
-- Data for Name: feedback; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.feedback (id, conversation_id, message_id, event, entry_id, rank, score, final_text, edit_distance, intent, created_at) FROM stdin;
1	c-legacy	1	shown	shipping_fee.free_threshold	1	0.9	\N	\N	shipping_fee	2026-12-02 00:25:17.754803
2	c-legacy	1	picked	shipping_fee.free_threshold	1	\N	\N	\N	\N	2026-12-02 00:25:17.778733
3	c-legacy	1	sent	shipping_fee.free_threshold	1	\N	亲，满99包邮哦	\N	\N	2026-12-02 00:25:17.778733
\.


--
-- Data for Name: kb_changes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.kb_changes (seq, entry_id, created_at) FROM stdin;
1	\N	2026-12-02 00:25:16.850206
2	shipping_fee.free_threshold	2026-12-02 00:25:17.046145
\.


--
-- Data for Name: kb_entries; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.kb_entries (id, intent, status, tags, answer, version, updated_at, updated_by) FROM stdin;
greet.service_hours	greet	approved	["客服时间", "在线"]	亲,我们客服的在线时间是{service_hours}哦~其他时间给我们留言,上线后第一时间回复您~	1	2026-12-02 00:25:16.777613	import
greet.time_greeting	greet	approved	["问候"]	哈喽亲~欢迎来到{shop_name},我是{agent_name},今天想看点什么呀?价格、尺码、发货都可以问我哦~	1	2026-12-02 00:25:16.777613	import
greet.welcome	greet	approved	["欢迎语", "开场"]	您好,欢迎光临{shop_name}~我是客服{agent_name},很高兴为您服务:)请问有什么可以帮您的呢?	1	2026-12-02 00:25:16.777613	import
shipping_fee.buy_two_free	shipping_fee	approved	["包邮", "多件"]	亲,我们包邮是按金额算的哦,订单满{free_shipping_threshold}元就包邮,不看件数~两件加起来满{free_shipping_threshold}元就免运费啦,我帮您算一下~	1	2026-12-02 00:25:16.777613	import
shipping_fee.fee_at_checkout	shipping_fee	approved	["运费", "结算"]	亲,结算时出现运费,一般是订单还没满{free_shipping_threshold}元,或者收货地址在{remote_areas}等偏远地区哦~您把截图发我,我帮您看看具体原因~	1	2026-12-02 00:25:16.777613	import
shipping_fee.free_shipping_plea	shipping_fee	approved	["包邮", "议价"]	亲,很理解您的想法~我们的价格是公司统一制定的,客服这边没有修改的权限哦;不过订单满{free_shipping_threshold}元就自动包邮,您再搭一件就能免邮啦~	1	2026-12-02 00:25:16.777613	import
shipping_fee.hk_overseas	shipping_fee	approved	["港澳台", "海外"]	亲,港澳台和海外地址的寄送方式和运费需要单独核实哦,您把收货地区告诉我,我马上帮您问仓库,{reply_within}内给您答复~	1	2026-12-02 00:25:16.777613	import
shipping_fee.leave_if_no_free_shipping	shipping_fee	approved	["包邮", "凑单"]	亲,我们全场满{free_shipping_threshold}元就包邮哦~您看的这款和店里的热门款搭在一起是黄金搭配,一起拍正好免邮,一举两得,我把搭配推荐发您看看~	1	2026-12-02 00:25:16.777613	import
shipping_fee.platform_postage	shipping_fee	approved	["运费券", "平台会员"]	亲,平台会员的包邮权益和平台发的运费券,使用规则以平台页面为准哦,结算时能用的会自动显示~店铺这边满{free_shipping_threshold}元包邮,需要的话我帮您算算怎么凑单最划算~	1	2026-12-02 00:25:16.777613	import
shipping_fee.remote_areas	shipping_fee	approved	["偏远地区", "运费"]	亲,{remote_areas}这些偏远地区路途比较远,需要另外补{remote_shipping_fee}元运费哦,其他地区满{free_shipping_threshold}元包邮~需要补运费的话我来帮您操作~	1	2026-12-02 00:25:16.777613	import
shipping_fee.sf_extra_fee	shipping_fee	approved	["顺丰", "运费"]	亲,我们默认发{courier}哦~如果您想走顺丰,我马上帮您问下仓库能否安排,以及需要补多少差价,确认好了第一时间告诉您~	1	2026-12-02 00:25:16.777613	import
shipping_fee.top_up_suggestions	shipping_fee	approved	["凑单", "包邮"]	亲,您把购物车里的宝贝告诉我,我帮您算算离满{free_shipping_threshold}元还差多少,再推荐几款实用的小件给您凑单,既能包邮又用得上~	1	2026-12-02 00:25:16.777613	import
shipping_fee.free_threshold	shipping_fee	approved	["包邮", "运费"]	亲,全场满{free_shipping_threshold}元包邮哦,还没满的话凑一凑就能免运费啦,需要的话我帮您推荐搭配的宝贝~~	3	2026-12-02 00:25:17.036165	editor1
\.


--
-- Data for Name: kb_meta; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.kb_meta (key, value) FROM stdin;
\.


--
-- Data for Name: kb_pending; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.kb_pending (entry_id, intent, tags, questions, answer) FROM stdin;
\.


--
-- Data for Name: kb_questions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.kb_questions (entry_id, "position", text) FROM stdin;
greet.service_hours	0	客服几点上班
greet.service_hours	1	晚上有人吗
greet.service_hours	2	你们几点下班
greet.service_hours	3	半夜有客服吗
greet.service_hours	4	客服上班时间
greet.service_hours	5	明天几点上线
greet.service_hours	6	晚上11点以后还有人回吗
greet.service_hours	7	人工客服什么时候在
greet.service_hours	8	周末有客服吗
greet.service_hours	9	晚上十点还有人吗
greet.service_hours	10	凌晨有人回消息吗
greet.service_hours	11	客服几点开始上班啊
greet.service_hours	12	早上几点有人
greet.service_hours	13	过年客服在吗
greet.service_hours	14	节假日客服上班吗
greet.service_hours	15	人工客服几点到几点
greet.service_hours	16	现在这个点还有人工吗
greet.service_hours	17	你们一般晚上几点下班
greet.service_hours	18	明天早上几点能找到人
greet.service_hours	19	客服在线时间是多少？
greet.service_hours	20	周日有人值班吗
greet.time_greeting	0	早上好
greet.time_greeting	1	晚上好
greet.time_greeting	2	哈喽
greet.time_greeting	3	亲你好呀
greet.time_greeting	4	中午好
greet.time_greeting	5	下午好
greet.time_greeting	6	hello
greet.time_greeting	7	hi
greet.time_greeting	8	早啊亲
greet.time_greeting	9	早上好 客服
greet.time_greeting	10	晚上好 掌柜的
greet.time_greeting	11	下午好呀小二
greet.time_greeting	12	嗨 早
greet.time_greeting	13	哈喽哈喽
greet.time_greeting	14	早安
greet.time_greeting	15	hello 老板
greet.time_greeting	16	中午好 老板
greet.time_greeting	17	hi 下午好
greet.time_greeting	18	早上好～老板娘
greet.time_greeting	19	哈喽 小姐姐
greet.time_greeting	20	晚上好呀店家
greet.time_greeting	21	hello hello
greet.time_greeting	22	嗨嗨 晚上好
greet.welcome	0	在吗
greet.welcome	1	你好
greet.welcome	2	有人吗
greet.welcome	3	客服在不在
greet.welcome	4	老板在吗
greet.welcome	5	在不
greet.welcome	6	您好 请问在吗
greet.welcome	7	有客服吗
greet.welcome	8	掌柜在不在
greet.welcome	9	在吗在吗
greet.welcome	10	你好 有人在吗
greet.welcome	11	客服小哥在吗
greet.welcome	12	亲亲 在不在线
greet.welcome	13	在伐
greet.welcome	14	店家有人没
greet.welcome	15	您好 在线吗
greet.welcome	16	有人不
greet.welcome	17	老板 在不在啊
greet.welcome	18	喂 有人吗？
greet.welcome	19	客服 在吗？？
greet.welcome	20	你好你好
greet.welcome	21	请问有人在吗🙏
shipping_fee.buy_two_free	0	买两件包邮吗
shipping_fee.buy_two_free	1	几件包邮
shipping_fee.buy_two_free	2	拍两个能免运费不
shipping_fee.buy_two_free	3	多买几件运费一样吗
shipping_fee.buy_two_free	4	2件包邮不
shipping_fee.buy_two_free	5	拍3个包邮吗
shipping_fee.buy_two_free	6	包邮看件数还是看金额
shipping_fee.buy_two_free	7	两件一起拍只收一份运费吗
shipping_fee.buy_two_free	8	跟朋友一起拍两件能免邮不
shipping_fee.buy_two_free	9	拍两双袜子能包邮不
shipping_fee.buy_two_free	10	我买两件一共80 包邮吗
shipping_fee.buy_two_free	11	是不是买够几件就免运费
shipping_fee.buy_two_free	12	一次拍三件运费算几份
shipping_fee.buy_two_free	13	两件包邮还是三件包邮啊
shipping_fee.buy_two_free	14	同一个订单多件只收一次邮费吗
shipping_fee.buy_two_free	15	多拍几个是不是能包邮
shipping_fee.buy_two_free	16	买2个包油吗
shipping_fee.buy_two_free	17	买两盒的话还要邮费不
shipping_fee.buy_two_free	18	两件以上免邮吗
shipping_fee.buy_two_free	19	件数多了运费会加吗
shipping_fee.buy_two_free	20	亲 几件起包邮呀
shipping_fee.buy_two_free	21	买三瓶能不能不要运费
shipping_fee.fee_at_checkout	0	下单页面怎么有运费
shipping_fee.fee_at_checkout	1	为啥结算要收运费
shipping_fee.fee_at_checkout	2	付款时多了运费
shipping_fee.fee_at_checkout	3	不是包邮吗怎么还有邮费
shipping_fee.fee_at_checkout	4	结算多了10块运费
shipping_fee.fee_at_checkout	5	提交订单怎么有快递费
shipping_fee.fee_at_checkout	6	明明满99了怎么还收运费
shipping_fee.fee_at_checkout	7	凭啥收我邮费
shipping_fee.fee_at_checkout	8	我付款的时候怎么多了8块邮费
shipping_fee.fee_at_checkout	9	详情页写包邮 怎么结算又要运费
shipping_fee.fee_at_checkout	10	买了100多还收我运费
shipping_fee.fee_at_checkout	11	下单显示运费12元 为啥啊
shipping_fee.fee_at_checkout	12	提交订单多出来一笔快递费
shipping_fee.fee_at_checkout	13	凑够99了付款还是有运费
shipping_fee.fee_at_checkout	14	为什么我这单要付运费？？
shipping_fee.fee_at_checkout	15	结算页运费那栏不是0
shipping_fee.fee_at_checkout	16	购物车结算多了运费 是不是搞错了
shipping_fee.fee_at_checkout	17	平时都包邮 这次付款怎么要邮费
shipping_fee.fee_at_checkout	18	订单里怎么有一项运费
shipping_fee.fee_at_checkout	19	拍的时候加了运费 你们不是包邮吗😂
shipping_fee.fee_at_checkout	20	你好 我拍了两件加起来一百零几块 结算的时候怎么还有六块运费
shipping_fee.free_shipping_plea	0	给我包邮嘛以后还来
shipping_fee.free_shipping_plea	1	包个邮呗下次还买你家
shipping_fee.free_shipping_plea	2	就一件给包邮吧
shipping_fee.free_shipping_plea	3	邮费免了吧老板
shipping_fee.free_shipping_plea	4	包个油呗
shipping_fee.free_shipping_plea	5	运费能给免了不
shipping_fee.free_shipping_plea	6	差几块钱直接给我包邮呗
shipping_fee.free_shipping_plea	7	老顾客了送个运费吧
shipping_fee.free_shipping_plea	8	老板 邮费就别收了吧
shipping_fee.free_shipping_plea	9	给个包邮 我马上拍
shipping_fee.free_shipping_plea	10	就差运费了 包了吧亲
shipping_fee.free_shipping_plea	11	买一件能包邮不 求求了🙏
shipping_fee.free_shipping_plea	12	运费免了吧 我给你好评
shipping_fee.free_shipping_plea	13	包邮的话我就下单
shipping_fee.free_shipping_plea	14	运费给我免一下嘛 下回还来
shipping_fee.free_shipping_plea	15	亲 帮我把邮费去掉呗
shipping_fee.free_shipping_plea	16	我学生党 给包个邮吧
shipping_fee.free_shipping_plea	17	就买一个 你给包邮嘛
shipping_fee.free_shipping_plea	18	才差五块 你就当包邮了呗
shipping_fee.free_shipping_plea	19	运费能不能改成0
shipping_fee.free_shipping_plea	20	掌柜的 邮费减掉行不行
shipping_fee.hk_overseas	0	寄香港运费多少
shipping_fee.hk_overseas	1	能寄国外吗
shipping_fee.hk_overseas	2	港澳台发货吗
shipping_fee.hk_overseas	3	寄台湾邮费怎么算
shipping_fee.hk_overseas	4	能寄澳门吗
shipping_fee.hk_overseas	5	海外可以发货不
shipping_fee.hk_overseas	6	寄到日本运费多少
shipping_fee.hk_overseas	7	能发国际快递到美国吗
shipping_fee.hk_overseas	8	能发到香港吗 运费多少
shipping_fee.hk_overseas	9	我在台湾 可以下单吗
shipping_fee.hk_overseas	10	寄新加坡要多少钱运费
shipping_fee.hk_overseas	11	澳门地址能收到吗
shipping_fee.hk_overseas	12	海外能下单吗 我在加拿大
shipping_fee.hk_overseas	13	发韩国可以吗
shipping_fee.hk_overseas	14	能寄到马来西亚吗 邮费怎么算
shipping_fee.hk_overseas	15	香港包邮吗
shipping_fee.hk_overseas	16	寄英国大概要多少运费
shipping_fee.hk_overseas	17	能直邮澳洲吗
shipping_fee.hk_overseas	18	国外地址可以填吗
shipping_fee.hk_overseas	19	寄港澳要加运费吗
shipping_fee.hk_overseas	20	我在日本留学 想买几包零食 能直接寄过来不
shipping_fee.leave_if_no_free_shipping	0	不包邮我就去别家看看
shipping_fee.leave_if_no_free_shipping	1	不给优惠我就去别家了
shipping_fee.leave_if_no_free_shipping	2	别家都包邮
shipping_fee.leave_if_no_free_shipping	3	要运费就算了
shipping_fee.leave_if_no_free_shipping	4	不包邮不买了
shipping_fee.leave_if_no_free_shipping	5	收运费的话我去别的店买
shipping_fee.leave_if_no_free_shipping	6	运费这么贵 那不要了
shipping_fee.leave_if_no_free_shipping	7	隔壁店包邮 你家不包我就走了
shipping_fee.leave_if_no_free_shipping	8	还要运费啊 那我不买了
shipping_fee.leave_if_no_free_shipping	9	别人家都包邮 你们还收运费
shipping_fee.leave_if_no_free_shipping	10	不包邮 那我换一家
shipping_fee.leave_if_no_free_shipping	11	一件还要运费 算了算了
shipping_fee.leave_if_no_free_shipping	12	邮费比东西还贵 不要了
shipping_fee.leave_if_no_free_shipping	13	收运费？那我去拼多多买
shipping_fee.leave_if_no_free_shipping	14	别家包邮还便宜 我考虑去别家了
shipping_fee.leave_if_no_free_shipping	15	不包邮没意思 走了
shipping_fee.leave_if_no_free_shipping	16	加运费的话我就不拍了
shipping_fee.leave_if_no_free_shipping	17	这年头还有不包邮的？不买了
shipping_fee.leave_if_no_free_shipping	18	要邮费就拉倒吧
shipping_fee.leave_if_no_free_shipping	19	淘宝上随便一家都包邮 你家还要运费 再见
shipping_fee.leave_if_no_free_shipping	20	运费10块？？那算了
shipping_fee.platform_postage	0	运费券怎么用
shipping_fee.platform_postage	1	会员是不是包邮
shipping_fee.platform_postage	2	包邮券用不了
shipping_fee.platform_postage	3	88VIP包邮吗
shipping_fee.platform_postage	4	平台的运费券什么时候发
shipping_fee.platform_postage	5	用了运费券怎么还收运费
shipping_fee.platform_postage	6	开了会员还要付运费吗
shipping_fee.platform_postage	7	免运费券在哪领
shipping_fee.platform_postage	8	我开了88vip 在你家买是不是免邮
shipping_fee.platform_postage	9	平台送的运费券怎么用不了
shipping_fee.platform_postage	10	运费券领了结账没抵
shipping_fee.platform_postage	11	淘宝会员包邮卡能用吗
shipping_fee.platform_postage	12	京东plus会员是不是免运费
shipping_fee.platform_postage	13	我的免邮券为什么显示不可用
shipping_fee.platform_postage	14	运费券是平台发的还是你们店发的
shipping_fee.platform_postage	15	开了省钱卡还要付运费吗
shipping_fee.platform_postage	16	运费券过期了还能用吗
shipping_fee.platform_postage	17	我有个免运费的券 结算没显示
shipping_fee.platform_postage	18	超级会员的包邮权益在你家能用不
shipping_fee.platform_postage	19	用了包邮卡怎么还扣了运费
shipping_fee.platform_postage	20	会员免运费次数用完了 咋办
shipping_fee.remote_areas	0	新疆包邮吗
shipping_fee.remote_areas	1	偏远地区运费多少
shipping_fee.remote_areas	2	寄西藏要补运费吗
shipping_fee.remote_areas	3	内蒙古邮费多少
shipping_fee.remote_areas	4	青海包邮不
shipping_fee.remote_areas	5	我在乌鲁木齐 运费怎么算
shipping_fee.remote_areas	6	拉萨要补多少邮费
shipping_fee.remote_areas	7	内蒙满99也不包邮吗
shipping_fee.remote_areas	8	偏远地区要加快递费吗
shipping_fee.remote_areas	9	发新疆要补多少邮费
shipping_fee.remote_areas	10	我在西藏 满99包邮吗
shipping_fee.remote_areas	11	寄到呼和浩特运费多少
shipping_fee.remote_areas	12	青海西宁买这个要加运费吗
shipping_fee.remote_areas	13	新疆那边是不是不包邮
shipping_fee.remote_areas	14	偏远地区补运费怎么补
shipping_fee.remote_areas	15	寄喀什要多出多少钱
shipping_fee.remote_areas	16	包头那边能包邮吗 内蒙古的
shipping_fee.remote_areas	17	为啥偏远地区要另收运费
shipping_fee.remote_areas	18	西藏地区邮费咋算啊
shipping_fee.remote_areas	19	补15块运费是吗 我在伊犁
shipping_fee.remote_areas	20	偏远地区包不包油啊
shipping_fee.remote_areas	21	我家在新疆 购物车都一百多了 结算还让我补运费
shipping_fee.sf_extra_fee	0	发顺丰要加多少钱
shipping_fee.sf_extra_fee	1	顺丰补多少运费
shipping_fee.sf_extra_fee	2	换顺丰要补差价吗
shipping_fee.sf_extra_fee	3	sf要加钱吗
shipping_fee.sf_extra_fee	4	改发顺丰运费多少
shipping_fee.sf_extra_fee	5	加多少钱能走顺丰
shipping_fee.sf_extra_fee	6	顺丰要另外收钱吗
shipping_fee.sf_extra_fee	7	走顺丰邮费我来出 要多少
shipping_fee.sf_extra_fee	8	我想发顺丰 要补多少钱
shipping_fee.sf_extra_fee	9	顺丰的话邮费怎么算
shipping_fee.sf_extra_fee	10	补差价走顺丰可以吗 补几块
shipping_fee.sf_extra_fee	11	急用 加钱发顺丰行不行 多少
shipping_fee.sf_extra_fee	12	顺丰比申通贵多少 差价我补
shipping_fee.sf_extra_fee	13	换顺丰得另外加多少邮费
shipping_fee.sf_extra_fee	14	发顺丰要补差价是吧 补多少
shipping_fee.sf_extra_fee	15	改顺丰快递费差多少
shipping_fee.sf_extra_fee	16	顺丰空运加多少钱
shipping_fee.sf_extra_fee	17	不要申通 补钱换顺丰 多少
shipping_fee.sf_extra_fee	18	顺丰加钱吗？？
shipping_fee.sf_extra_fee	19	升级顺丰要多付多少
shipping_fee.sf_extra_fee	20	发顺丰的话运费贵多少
shipping_fee.top_up_suggestions	0	还差多少包邮
shipping_fee.top_up_suggestions	1	凑单有啥推荐
shipping_fee.top_up_suggestions	2	差几块包邮怎么办
shipping_fee.top_up_suggestions	3	帮我凑个单
shipping_fee.top_up_suggestions	4	凑单推荐
shipping_fee.top_up_suggestions	5	离包邮还差多少钱
shipping_fee.top_up_suggestions	6	差10块包邮 买点啥好
shipping_fee.top_up_suggestions	7	有啥便宜小件能凑包邮
shipping_fee.top_up_suggestions	8	还差15块包邮 推荐个东西
shipping_fee.top_up_suggestions	9	我购物车68 还差多少包邮
shipping_fee.top_up_suggestions	10	有没有十块左右的小东西凑单
shipping_fee.top_up_suggestions	11	帮我看看再加点啥能满99
shipping_fee.top_up_suggestions	12	凑单的话买什么划算
shipping_fee.top_up_suggestions	13	差几块钱包邮 有啥实用的
shipping_fee.top_up_suggestions	14	想凑个包邮 有啥推荐的
shipping_fee.top_up_suggestions	15	离包邮还差一点 加个啥好
shipping_fee.top_up_suggestions	16	买了个85的 再凑点啥能免运费
shipping_fee.top_up_suggestions	17	凑单小件有哪些
shipping_fee.top_up_suggestions	18	亲 帮忙推荐下凑单的 便宜点的就行
shipping_fee.top_up_suggestions	19	差20包邮 有啥零食可以凑
shipping_fee.top_up_suggestions	20	加购啥能刚好到99啊
shipping_fee.free_threshold	0	包邮吗
shipping_fee.free_threshold	1	满多少包邮
shipping_fee.free_threshold	2	运费怎么算
shipping_fee.free_threshold	3	要运费吗
shipping_fee.free_threshold	4	包油吗
shipping_fee.free_threshold	5	包不包邮
shipping_fee.free_threshold	6	邮费多少钱
shipping_fee.free_threshold	7	快递费怎么收
shipping_fee.free_threshold	8	免运费不
shipping_fee.free_threshold	9	亲 你家包邮不
shipping_fee.free_threshold	10	拍一件要邮费吗
shipping_fee.free_threshold	11	满多少钱免运费啊
shipping_fee.free_threshold	12	运费几块钱
shipping_fee.free_threshold	13	这个寄到杭州要多少运费
shipping_fee.free_threshold	14	快递费是多少呀
shipping_fee.free_threshold	15	全店包邮吗
shipping_fee.free_threshold	16	发上海包邮吗
shipping_fee.free_threshold	17	买一个39的杯子要加运费不
shipping_fee.free_threshold	18	运费是另外算的吗
shipping_fee.free_threshold	19	邮费怎么收的 按重量吗
shipping_fee.free_threshold	20	这个价格包含运费了吗
shipping_fee.free_threshold	21	满99包邮是吗
\.


--
-- Data for Name: kb_revisions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.kb_revisions (entry_id, version, action, status, intent, tags, questions, answer, author, created_at, note) FROM stdin;
greet.service_hours	1	import	approved	greet	["客服时间", "在线"]	["客服几点上班", "晚上有人吗", "你们几点下班", "半夜有客服吗", "客服上班时间", "明天几点上线", "晚上11点以后还有人回吗", "人工客服什么时候在", "周末有客服吗", "晚上十点还有人吗", "凌晨有人回消息吗", "客服几点开始上班啊", "早上几点有人", "过年客服在吗", "节假日客服上班吗", "人工客服几点到几点", "现在这个点还有人工吗", "你们一般晚上几点下班", "明天早上几点能找到人", "客服在线时间是多少？", "周日有人值班吗"]	亲,我们客服的在线时间是{service_hours}哦~其他时间给我们留言,上线后第一时间回复您~	import	2026-12-02 00:25:16.777613	\N
greet.time_greeting	1	import	approved	greet	["问候"]	["早上好", "晚上好", "哈喽", "亲你好呀", "中午好", "下午好", "hello", "hi", "早啊亲", "早上好 客服", "晚上好 掌柜的", "下午好呀小二", "嗨 早", "哈喽哈喽", "早安", "hello 老板", "中午好 老板", "hi 下午好", "早上好～老板娘", "哈喽 小姐姐", "晚上好呀店家", "hello hello", "嗨嗨 晚上好"]	哈喽亲~欢迎来到{shop_name},我是{agent_name},今天想看点什么呀?价格、尺码、发货都可以问我哦~	import	2026-12-02 00:25:16.777613	\N
greet.welcome	1	import	approved	greet	["欢迎语", "开场"]	["在吗", "你好", "有人吗", "客服在不在", "老板在吗", "在不", "您好 请问在吗", "有客服吗", "掌柜在不在", "在吗在吗", "你好 有人在吗", "客服小哥在吗", "亲亲 在不在线", "在伐", "店家有人没", "您好 在线吗", "有人不", "老板 在不在啊", "喂 有人吗？", "客服 在吗？？", "你好你好", "请问有人在吗🙏"]	您好,欢迎光临{shop_name}~我是客服{agent_name},很高兴为您服务:)请问有什么可以帮您的呢?	import	2026-12-02 00:25:16.777613	\N
shipping_fee.buy_two_free	1	import	approved	shipping_fee	["包邮", "多件"]	["买两件包邮吗", "几件包邮", "拍两个能免运费不", "多买几件运费一样吗", "2件包邮不", "拍3个包邮吗", "包邮看件数还是看金额", "两件一起拍只收一份运费吗", "跟朋友一起拍两件能免邮不", "拍两双袜子能包邮不", "我买两件一共80 包邮吗", "是不是买够几件就免运费", "一次拍三件运费算几份", "两件包邮还是三件包邮啊", "同一个订单多件只收一次邮费吗", "多拍几个是不是能包邮", "买2个包油吗", "买两盒的话还要邮费不", "两件以上免邮吗", "件数多了运费会加吗", "亲 几件起包邮呀", "买三瓶能不能不要运费"]	亲,我们包邮是按金额算的哦,订单满{free_shipping_threshold}元就包邮,不看件数~两件加起来满{free_shipping_threshold}元就免运费啦,我帮您算一下~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.fee_at_checkout	1	import	approved	shipping_fee	["运费", "结算"]	["下单页面怎么有运费", "为啥结算要收运费", "付款时多了运费", "不是包邮吗怎么还有邮费", "结算多了10块运费", "提交订单怎么有快递费", "明明满99了怎么还收运费", "凭啥收我邮费", "我付款的时候怎么多了8块邮费", "详情页写包邮 怎么结算又要运费", "买了100多还收我运费", "下单显示运费12元 为啥啊", "提交订单多出来一笔快递费", "凑够99了付款还是有运费", "为什么我这单要付运费？？", "结算页运费那栏不是0", "购物车结算多了运费 是不是搞错了", "平时都包邮 这次付款怎么要邮费", "订单里怎么有一项运费", "拍的时候加了运费 你们不是包邮吗😂", "你好 我拍了两件加起来一百零几块 结算的时候怎么还有六块运费"]	亲,结算时出现运费,一般是订单还没满{free_shipping_threshold}元,或者收货地址在{remote_areas}等偏远地区哦~您把截图发我,我帮您看看具体原因~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.free_shipping_plea	1	import	approved	shipping_fee	["包邮", "议价"]	["给我包邮嘛以后还来", "包个邮呗下次还买你家", "就一件给包邮吧", "邮费免了吧老板", "包个油呗", "运费能给免了不", "差几块钱直接给我包邮呗", "老顾客了送个运费吧", "老板 邮费就别收了吧", "给个包邮 我马上拍", "就差运费了 包了吧亲", "买一件能包邮不 求求了🙏", "运费免了吧 我给你好评", "包邮的话我就下单", "运费给我免一下嘛 下回还来", "亲 帮我把邮费去掉呗", "我学生党 给包个邮吧", "就买一个 你给包邮嘛", "才差五块 你就当包邮了呗", "运费能不能改成0", "掌柜的 邮费减掉行不行"]	亲,很理解您的想法~我们的价格是公司统一制定的,客服这边没有修改的权限哦;不过订单满{free_shipping_threshold}元就自动包邮,您再搭一件就能免邮啦~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.free_threshold	1	import	approved	shipping_fee	["包邮", "运费"]	["包邮吗", "满多少包邮", "运费怎么算", "要运费吗", "包油吗", "包不包邮", "邮费多少钱", "快递费怎么收", "免运费不", "亲 你家包邮不", "拍一件要邮费吗", "满多少钱免运费啊", "运费几块钱", "这个寄到杭州要多少运费", "快递费是多少呀", "全店包邮吗", "发上海包邮吗", "买一个39的杯子要加运费不", "运费是另外算的吗", "邮费怎么收的 按重量吗", "这个价格包含运费了吗", "满99包邮是吗"]	亲,全场满{free_shipping_threshold}元包邮哦,还没满的话凑一凑就能免运费啦,需要的话我帮您推荐搭配的宝贝~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.hk_overseas	1	import	approved	shipping_fee	["港澳台", "海外"]	["寄香港运费多少", "能寄国外吗", "港澳台发货吗", "寄台湾邮费怎么算", "能寄澳门吗", "海外可以发货不", "寄到日本运费多少", "能发国际快递到美国吗", "能发到香港吗 运费多少", "我在台湾 可以下单吗", "寄新加坡要多少钱运费", "澳门地址能收到吗", "海外能下单吗 我在加拿大", "发韩国可以吗", "能寄到马来西亚吗 邮费怎么算", "香港包邮吗", "寄英国大概要多少运费", "能直邮澳洲吗", "国外地址可以填吗", "寄港澳要加运费吗", "我在日本留学 想买几包零食 能直接寄过来不"]	亲,港澳台和海外地址的寄送方式和运费需要单独核实哦,您把收货地区告诉我,我马上帮您问仓库,{reply_within}内给您答复~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.leave_if_no_free_shipping	1	import	approved	shipping_fee	["包邮", "凑单"]	["不包邮我就去别家看看", "不给优惠我就去别家了", "别家都包邮", "要运费就算了", "不包邮不买了", "收运费的话我去别的店买", "运费这么贵 那不要了", "隔壁店包邮 你家不包我就走了", "还要运费啊 那我不买了", "别人家都包邮 你们还收运费", "不包邮 那我换一家", "一件还要运费 算了算了", "邮费比东西还贵 不要了", "收运费？那我去拼多多买", "别家包邮还便宜 我考虑去别家了", "不包邮没意思 走了", "加运费的话我就不拍了", "这年头还有不包邮的？不买了", "要邮费就拉倒吧", "淘宝上随便一家都包邮 你家还要运费 再见", "运费10块？？那算了"]	亲,我们全场满{free_shipping_threshold}元就包邮哦~您看的这款和店里的热门款搭在一起是黄金搭配,一起拍正好免邮,一举两得,我把搭配推荐发您看看~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.platform_postage	1	import	approved	shipping_fee	["运费券", "平台会员"]	["运费券怎么用", "会员是不是包邮", "包邮券用不了", "88VIP包邮吗", "平台的运费券什么时候发", "用了运费券怎么还收运费", "开了会员还要付运费吗", "免运费券在哪领", "我开了88vip 在你家买是不是免邮", "平台送的运费券怎么用不了", "运费券领了结账没抵", "淘宝会员包邮卡能用吗", "京东plus会员是不是免运费", "我的免邮券为什么显示不可用", "运费券是平台发的还是你们店发的", "开了省钱卡还要付运费吗", "运费券过期了还能用吗", "我有个免运费的券 结算没显示", "超级会员的包邮权益在你家能用不", "用了包邮卡怎么还扣了运费", "会员免运费次数用完了 咋办"]	亲,平台会员的包邮权益和平台发的运费券,使用规则以平台页面为准哦,结算时能用的会自动显示~店铺这边满{free_shipping_threshold}元包邮,需要的话我帮您算算怎么凑单最划算~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.remote_areas	1	import	approved	shipping_fee	["偏远地区", "运费"]	["新疆包邮吗", "偏远地区运费多少", "寄西藏要补运费吗", "内蒙古邮费多少", "青海包邮不", "我在乌鲁木齐 运费怎么算", "拉萨要补多少邮费", "内蒙满99也不包邮吗", "偏远地区要加快递费吗", "发新疆要补多少邮费", "我在西藏 满99包邮吗", "寄到呼和浩特运费多少", "青海西宁买这个要加运费吗", "新疆那边是不是不包邮", "偏远地区补运费怎么补", "寄喀什要多出多少钱", "包头那边能包邮吗 内蒙古的", "为啥偏远地区要另收运费", "西藏地区邮费咋算啊", "补15块运费是吗 我在伊犁", "偏远地区包不包油啊", "我家在新疆 购物车都一百多了 结算还让我补运费"]	亲,{remote_areas}这些偏远地区路途比较远,需要另外补{remote_shipping_fee}元运费哦,其他地区满{free_shipping_threshold}元包邮~需要补运费的话我来帮您操作~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.sf_extra_fee	1	import	approved	shipping_fee	["顺丰", "运费"]	["发顺丰要加多少钱", "顺丰补多少运费", "换顺丰要补差价吗", "sf要加钱吗", "改发顺丰运费多少", "加多少钱能走顺丰", "顺丰要另外收钱吗", "走顺丰邮费我来出 要多少", "我想发顺丰 要补多少钱", "顺丰的话邮费怎么算", "补差价走顺丰可以吗 补几块", "急用 加钱发顺丰行不行 多少", "顺丰比申通贵多少 差价我补", "换顺丰得另外加多少邮费", "发顺丰要补差价是吧 补多少", "改顺丰快递费差多少", "顺丰空运加多少钱", "不要申通 补钱换顺丰 多少", "顺丰加钱吗？？", "升级顺丰要多付多少", "发顺丰的话运费贵多少"]	亲,我们默认发{courier}哦~如果您想走顺丰,我马上帮您问下仓库能否安排,以及需要补多少差价,确认好了第一时间告诉您~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.top_up_suggestions	1	import	approved	shipping_fee	["凑单", "包邮"]	["还差多少包邮", "凑单有啥推荐", "差几块包邮怎么办", "帮我凑个单", "凑单推荐", "离包邮还差多少钱", "差10块包邮 买点啥好", "有啥便宜小件能凑包邮", "还差15块包邮 推荐个东西", "我购物车68 还差多少包邮", "有没有十块左右的小东西凑单", "帮我看看再加点啥能满99", "凑单的话买什么划算", "差几块钱包邮 有啥实用的", "想凑个包邮 有啥推荐的", "离包邮还差一点 加个啥好", "买了个85的 再凑点啥能免运费", "凑单小件有哪些", "亲 帮忙推荐下凑单的 便宜点的就行", "差20包邮 有啥零食可以凑", "加购啥能刚好到99啊"]	亲,您把购物车里的宝贝告诉我,我帮您算算离满{free_shipping_threshold}元还差多少,再推荐几款实用的小件给您凑单,既能包邮又用得上~	import	2026-12-02 00:25:16.777613	\N
shipping_fee.free_threshold	2	edit	draft	shipping_fee	["包邮", "运费"]	["包邮吗", "满多少包邮", "运费怎么算", "要运费吗", "包油吗", "包不包邮", "邮费多少钱", "快递费怎么收", "免运费不", "亲 你家包邮不", "拍一件要邮费吗", "满多少钱免运费啊", "运费几块钱", "这个寄到杭州要多少运费", "快递费是多少呀", "全店包邮吗", "发上海包邮吗", "买一个39的杯子要加运费不", "运费是另外算的吗", "邮费怎么收的 按重量吗", "这个价格包含运费了吗", "满99包邮是吗"]	亲,全场满{free_shipping_threshold}元包邮哦,还没满的话凑一凑就能免运费啦,需要的话我帮您推荐搭配的宝贝~~	editor1	2026-12-02 00:25:17.014738	\N
shipping_fee.free_threshold	3	approve	approved	shipping_fee	["包邮", "运费"]	["包邮吗", "满多少包邮", "运费怎么算", "要运费吗", "包油吗", "包不包邮", "邮费多少钱", "快递费怎么收", "免运费不", "亲 你家包邮不", "拍一件要邮费吗", "满多少钱免运费啊", "运费几块钱", "这个寄到杭州要多少运费", "快递费是多少呀", "全店包邮吗", "发上海包邮吗", "买一个39的杯子要加运费不", "运费是另外算的吗", "邮费怎么收的 按重量吗", "这个价格包含运费了吗", "满99包邮是吗"]	亲,全场满{free_shipping_threshold}元包邮哦,还没满的话凑一凑就能免运费啦,需要的话我帮您推荐搭配的宝贝~~	editor1	2026-12-02 00:25:17.036165	\N
\.


--
-- Data for Name: live_events; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.live_events (id, origin, target, payload, created_at) FROM stdin;
\.


--
-- Data for Name: messages; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.messages (id, conversation_id, role, text, created_at) FROM stdin;
1	c-legacy	customer	包邮吗	2026-12-02 00:25:17.745859
2	c-legacy	agent	亲，满99包邮哦	2026-12-02 00:25:17.766841
\.


--
-- Data for Name: password_changes_due; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.password_changes_due (user_name, created_at) FROM stdin;
\.


--
-- Data for Name: sessions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.sessions (token_hash, user_name, csrf, expires_at) FROM stdin;
f063227aff917db32684cb5e69d35cb20a7125cb572e3f7974e41e234b96bfc0	agent1	XqZ2vH84g4cJnQTzwk4Y0XwP6iIH1uWaaCW_MRBRpHw	2046-11-27 00:25:17.581819
\.


--
-- Data for Name: shop_profile; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.shop_profile (key, "position", value) FROM stdin;
shop_name	0	小满生活旗舰店
agent_name	1	小满
free_shipping_threshold	2	99
courier	3	申通快递
dispatch_cutoff	4	16:30
delivery_days	5	3-4个工作日
remote_areas	6	新疆、西藏、青海、内蒙古
remote_shipping_fee	7	15
return_days	8	7
service_hours	9	每天9:00-23:00
reply_within	10	24小时
invoice_type	11	电子普通发票
\.


--
-- Data for Name: traffic_reviewed; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.traffic_reviewed (message_id, decision, entry_id, author, created_at) FROM stdin;
\.


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.users (name, role, password_hash, created_at) FROM stdin;
agent1	agent	$argon2id$v=19$m=65536,t=3,p=4$8R9HuRBtpnlVfuuBiX4zlQ$qJoxjLW5u6R0LOz6KaUOOj9iJQdC6mJ8F8SmX+mdgic	2026-12-02 00:25:17.381672
editor1	editor	$argon2id$v=19$m=65536,t=3,p=4$sq9KvphjJML00uiYjC/NPQ$7ubAuPdX0MffFH1y96cRLPY79v6iRzy5208TNAf/ZTI	2026-12-02 00:25:17.57234
\.


--
-- Name: feedback_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.feedback_id_seq', 3, true);


--
-- Name: kb_changes_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.kb_changes_seq_seq', 2, true);


--
-- Name: live_events_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.live_events_id_seq', 1, false);


--
-- Name: messages_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.messages_id_seq', 2, true);


--
-- Name: traffic_reviewed_message_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.traffic_reviewed_message_id_seq', 1, false);


--
-- Name: api_tokens api_tokens_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_name_key UNIQUE (name);


--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (token_hash);


--
-- Name: conversation_orders conversation_orders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_orders
    ADD CONSTRAINT conversation_orders_pkey PRIMARY KEY (conversation_id);


--
-- Name: conversations conversations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversations
    ADD CONSTRAINT conversations_pkey PRIMARY KEY (id);


--
-- Name: feedback feedback_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_pkey PRIMARY KEY (id);


--
-- Name: kb_changes kb_changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_changes
    ADD CONSTRAINT kb_changes_pkey PRIMARY KEY (seq);


--
-- Name: kb_entries kb_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_entries
    ADD CONSTRAINT kb_entries_pkey PRIMARY KEY (id);


--
-- Name: kb_meta kb_meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_meta
    ADD CONSTRAINT kb_meta_pkey PRIMARY KEY (key);


--
-- Name: kb_pending kb_pending_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_pending
    ADD CONSTRAINT kb_pending_pkey PRIMARY KEY (entry_id);


--
-- Name: kb_questions kb_questions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_questions
    ADD CONSTRAINT kb_questions_pkey PRIMARY KEY (entry_id, "position");


--
-- Name: kb_revisions kb_revisions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_revisions
    ADD CONSTRAINT kb_revisions_pkey PRIMARY KEY (entry_id, version);


--
-- Name: live_events live_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.live_events
    ADD CONSTRAINT live_events_pkey PRIMARY KEY (id);


--
-- Name: messages messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);


--
-- Name: password_changes_due password_changes_due_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.password_changes_due
    ADD CONSTRAINT password_changes_due_pkey PRIMARY KEY (user_name);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (token_hash);


--
-- Name: shop_profile shop_profile_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_profile
    ADD CONSTRAINT shop_profile_pkey PRIMARY KEY (key);


--
-- Name: traffic_reviewed traffic_reviewed_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.traffic_reviewed
    ADD CONSTRAINT traffic_reviewed_pkey PRIMARY KEY (message_id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (name);


--
-- Name: ix_feedback_conversation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_feedback_conversation_id ON public.feedback USING btree (conversation_id);


--
-- Name: ix_feedback_message_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_feedback_message_id ON public.feedback USING btree (message_id);


--
-- Name: ix_kb_entries_intent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_kb_entries_intent ON public.kb_entries USING btree (intent);


--
-- Name: ix_kb_entries_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_kb_entries_status ON public.kb_entries USING btree (status);


--
-- Name: ix_live_events_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_live_events_created_at ON public.live_events USING btree (created_at);


--
-- Name: ix_messages_conversation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_messages_conversation_id ON public.messages USING btree (conversation_id);


--
-- Name: ix_sessions_user_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sessions_user_name ON public.sessions USING btree (user_name);


--
-- Name: conversation_orders conversation_orders_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_orders
    ADD CONSTRAINT conversation_orders_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES public.conversations(id);


--
-- Name: kb_pending kb_pending_entry_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_pending
    ADD CONSTRAINT kb_pending_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.kb_entries(id) ON DELETE CASCADE;


--
-- Name: kb_questions kb_questions_entry_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kb_questions
    ADD CONSTRAINT kb_questions_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.kb_entries(id) ON DELETE CASCADE;


--
-- Name: messages messages_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES public.conversations(id);


--
-- Name: password_changes_due password_changes_due_user_name_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.password_changes_due
    ADD CONSTRAINT password_changes_due_user_name_fkey FOREIGN KEY (user_name) REFERENCES public.users(name) ON DELETE CASCADE;


--
-- Name: sessions sessions_user_name_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_name_fkey FOREIGN KEY (user_name) REFERENCES public.users(name) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict yMLKGt1GwBaSbu95LhpNCpe6x35ngfxV9OZbWWk03zRpYqSJHAsWzG0q2deiGfa

